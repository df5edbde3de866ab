package io.qsync.runtime;

import java.util.Arrays;

/**
 * The median and the robust spread of repeated timings (robust to the odd descheduled step), as the profiler, the co-run
 * and the workers report them.
 */
public final class Medians {
    private Medians() {}

    /**
     * @param v samples (not changed)
     * @return their median: the middle value, or the mean of the two middle ones for an even count
     */
    public static double of(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /**
     * A robust relative spread: 1.4826 × the median absolute deviation from the median (the standard deviation, for
     * normal samples, unmoved by the odd slow step), over the median.
     *
     * @param v samples (not changed)
     * @return the spread as a fraction of the median; 0 when the median is not positive
     */
    public static double relativeSpread(double[] v) {
        double m = of(v);
        double[] dev = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            dev[i] = Math.abs(v[i] - m);
        }
        return m > 0 ? 1.4826 * of(dev) / m : 0;
    }
}
