package io.qsync.runtime;

import io.qsync.planner.cost.LayerSamples;

/** Per-layer timing of an engine's steps while it is open; {@link #close()} stops recording (samples stay). */
public interface LayerClock extends LayerSamples, AutoCloseable {

    /** Forgets all samples. */
    void reset();

    /** Stops recording. */
    @Override
    void close();

    /**
     * The median of nanosecond samples, in seconds, after dropping the first {@code skip} (warm-up) when more than
     * {@code 2·skip} were taken; NaN for none.
     */
    static double medianSeconds(java.util.List<Long> nanos, int skip) {
        if (nanos == null || nanos.isEmpty()) {
            return Double.NaN;
        }
        int from = nanos.size() > 2 * skip ? skip : 0;
        long[] v = nanos.subList(from, nanos.size()).stream()
                .mapToLong(Long::longValue)
                .toArray();
        java.util.Arrays.sort(v);
        double m = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2.0;
        return m / 1e9;
    }
}
