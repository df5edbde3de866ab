package io.qsync.planner.cost;

/**
 * A cost linear in a size: {@code seconds = alpha * n + beta}. Used for casts (n = elements), the optimizer step
 * (n = parameters) and collectives (n = bytes).
 *
 * @param alpha seconds per unit
 * @param beta  fixed seconds
 */
public record LinearCost(double alpha, double beta) {
    /** Checks the coefficients are finite. */
    public LinearCost {
        if (!Double.isFinite(alpha) || !Double.isFinite(beta)) {
            throw new IllegalArgumentException(
                    "LinearCost coefficients must be finite, got alpha=" + alpha + " beta=" + beta);
        }
    }

    /**
     * @param n size
     * @return {@code max(0, alpha * n + beta)} seconds
     */
    public double seconds(double n) {
        return Math.max(0, alpha * n + beta);
    }

    /**
     * Ordinary least squares fit of {@code y = alpha x + beta}.
     *
     * @param x sizes (at least two distinct values)
     * @param y seconds
     * @return the fitted cost
     * @throws IllegalArgumentException if fewer than two distinct sizes are given
     */
    public static LinearCost fit(double[] x, double[] y) {
        if (x.length != y.length || x.length < 2) {
            throw new IllegalArgumentException("Least-squares fit needs >= 2 (size, seconds) pairs, got " + x.length);
        }
        double mx = 0;
        double my = 0;
        for (int i = 0; i < x.length; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= x.length;
        my /= x.length;
        double sxx = 0;
        double sxy = 0;
        for (int i = 0; i < x.length; i++) {
            sxx += (x[i] - mx) * (x[i] - mx);
            sxy += (x[i] - mx) * (y[i] - my);
        }
        if (sxx == 0) {
            throw new IllegalArgumentException("Least-squares fit needs at least two distinct sizes");
        }
        double a = sxy / sxx;
        return new LinearCost(a, my - a * mx);
    }
}
