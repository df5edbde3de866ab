package io.qsync.lowprec.train;

/** ND4J's Adam step size, rounded as its native updater rounds it, shared by every {@link TensorOps}. */
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
        // ND4J: T epsilonT = lr * sqrt<T>(1. - beta2T) / (1.0 - beta1T): the square root of a float, the division
        // in double (1 - beta1^t is not exact in float once beta1^t < 0.5), then rounded to float
        float num = (float) lr * (float) Math.sqrt((float) (1.0 - b2t));
        float a = (float) (num / (1.0 - b1t));
        return Float.isNaN(a) || Float.isInfinite(a) || a == 0f ? (float) eps : a;
    }
}
