package io.qsync.profile;

import java.util.Arrays;

/** The median the profiler and the co-run report of repeated timings (robust to the odd descheduled step). */
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
}
