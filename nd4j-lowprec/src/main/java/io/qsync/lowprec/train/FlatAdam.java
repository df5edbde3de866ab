package io.qsync.lowprec.train;

import java.nio.FloatBuffer;

/**
 * One fused pass of DL4J's Adam iteration over a range of a network's flat vectors: the division of the summed
 * gradient by the batch size (where the parameter is averaged), ND4J's Adam update and {@code params -= update}, with
 * the float operations and their order of ND4J's ops, so the results are bitwise those of DL4J's updater, without its
 * per-op passes over memory. {@link HostOps#adam} (the update alone) runs the same loop. The update is left in the gradient vector,
 * as DL4J leaves it.
 */
public final class FlatAdam {
    private FlatAdam() {}

    /**
     * Updates elements {@code [off, off + len)} of {@code grads} (and of {@code params} when given), with the first
     * moments at {@code m[mOff ...]} and the second at {@code v[vOff ...]}.
     *
     * @param params   the parameters to subtract the update from, or null to leave the update in {@code grads} only
     * @param batch    examples the gradient is summed over; 0 = the range is not averaged (left as it is)
     * @param stepSize {@link AdamScalars#stepSize} of this iteration
     * @param beta1    first-moment decay
     * @param beta2    second-moment decay
     * @param epsilon  Adam's epsilon
     */
    public static void step(
            FloatBuffer params,
            FloatBuffer grads,
            FloatBuffer m,
            FloatBuffer v,
            int off,
            int len,
            int mOff,
            int vOff,
            int batch,
            float stepSize,
            float beta1,
            float beta2,
            float epsilon) {
        float b = batch;
        float c1 = 1f - beta1;
        float c2 = 1f - beta2;
        for (int i = 0; i < len; i++) {
            int k = off + i;
            float g = grads.get(k);
            if (batch > 0) {
                g = g / b;
            }
            float mi = beta1 * m.get(mOff + i) + g * c1;
            float vi = beta2 * v.get(vOff + i) + g * g * c2;
            m.put(mOff + i, mi);
            v.put(vOff + i, vi);
            float u = mi * stepSize / ((float) Math.sqrt(vi) + epsilon);
            grads.put(k, u);
            if (params != null) {
                params.put(k, params.get(k) - u);
            }
        }
    }

    /**
     * DL4J's iteration for a range whose updater does nothing (NoOp, e.g. batch-norm running statistics): divide
     * where averaged, then {@code params -= grads}.
     *
     * @param batch examples the gradient is summed over; 0 = not averaged
     */
    public static void plain(FloatBuffer params, FloatBuffer grads, int off, int len, int batch) {
        float b = batch;
        for (int k = off; k < off + len; k++) {
            float g = grads.get(k);
            if (batch > 0) {
                g = g / b;
                grads.put(k, g);
            }
            params.put(k, params.get(k) - g);
        }
    }
}
