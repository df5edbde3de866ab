package io.qsync.bench;

import java.util.List;

/** The median the benchmarks report over repeated samples. */
public final class Medians {
    private Medians() {}

    /** Median of {@code l} (the mean of the middle two for an even count), NaN when empty. */
    public static double of(List<Double> l) {
        double[] c = l.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (c.length == 0) {
            return Double.NaN;
        }
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }
}
