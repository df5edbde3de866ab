package io.qsync.lowprec.train;

import java.nio.FloatBuffer;

/** Test helpers: float arrays into and out of any {@link TensorOps}, and the max-normalised difference of two. */
public final class TensorArrays {
    private TensorArrays() {}

    /** A new tensor holding {@code a}. */
    public static Tensor put(TensorOps ops, float[] a) {
        Tensor t = ops.allocate("in", a.length);
        ops.upload(FloatBuffer.wrap(a), t);
        return t;
    }

    /** The tensor's values. */
    public static float[] get(TensorOps ops, Tensor t) {
        FloatBuffer b = FloatBuffer.allocate((int) t.length());
        ops.download(t, b);
        return b.array();
    }

    /** {@code max |ref - got| / max |ref|}; infinite where got holds a NaN. */
    public static double rel(float[] ref, float[] got) {
        double maxRef = 1e-30, maxDiff = 0;
        for (int i = 0; i < ref.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            double d = Math.abs((double) ref[i] - got[i]);
            maxDiff = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(maxDiff, d);
        }
        return maxDiff / maxRef;
    }
}
