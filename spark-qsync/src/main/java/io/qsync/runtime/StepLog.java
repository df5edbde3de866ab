package io.qsync.runtime;

import java.util.Locale;

/**
 * Per-step diagnostics, {@code -Dqsync.logStepPhases=true}: every rank logs each step's time and phases
 * ({@link WorkerLoop}), and backends that time their own sections (the CUDA engine) log those too, as one line of
 * numbers per quantity so that scripts can set ranks and engines side by side. The flag is read once, here.
 */
public final class StepLog {
    /** Whether per-step lines are logged. */
    public static final boolean ON = Boolean.getBoolean("qsync.logStepPhases");

    private StepLog() {}

    /**
     * {@code v[from..to)} formatted with {@code format} (e.g. {@code "%.2f"}), space-separated, in the root locale.
     *
     * @param v      values, one per step
     * @param from   first index
     * @param to     end index, exclusive
     * @param format a {@link String#format} pattern for one value
     */
    public static String row(float[] v, int from, int to, String format) {
        StringBuilder b = new StringBuilder();
        for (int s = from; s < to; s++) {
            b.append(s > from ? " " : "").append(String.format(Locale.ROOT, format, v[s]));
        }
        return b.toString();
    }
}
