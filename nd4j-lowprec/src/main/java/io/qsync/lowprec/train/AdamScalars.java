package io.qsync.lowprec.train;

/** ND4J's Adam step size, computed in float as its native updater does, shared by every {@link TensorOps}. */
public final class AdamScalars {
    private AdamScalars() {}

    /**
     * {@code lr * sqrt(1 - beta2^(t+1)) / (1 - beta1^(t+1))}, or {@code eps} where that is 0, NaN or infinite.
     *
     * @param iteration 0-based iteration count
     */
    public static float stepSize(double lr, double beta1, double beta2, double eps, int iteration) {
        float b1t = (float) Math.pow((float) beta1, iteration + 1);
        float b2t = (float) Math.pow((float) beta2, iteration + 1);
        float a = (float) lr * (float) Math.sqrt(1f - b2t) / (1f - b1t);
        return Float.isNaN(a) || Float.isInfinite(a) || a == 0f ? (float) eps : a;
    }
}
