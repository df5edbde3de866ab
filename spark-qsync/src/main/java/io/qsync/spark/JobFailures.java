package io.qsync.spark;

import java.util.Locale;

/**
 * Failures a user can fix, said in one line: bad settings and inputs ({@link IllegalArgumentException}, also when
 * Spark carries one back from an executor inside its job-failure text), a Spark/Scala version this build cannot run
 * on, and running out of JVM heap (with the memory setting to raise).
 */
public final class JobFailures {
    private JobFailures() {}

    /** What to do when a worker's JVM heap is too small. */
    static final String RAISE_MEMORY = "raise spark.executor.memory (spark-submit --executor-memory; in local mode "
            + "the driver's heap: spark.driver.memory / --driver-memory), or add workers so that each holds fewer rows";

    /** The one-line message for {@code t}, or null when it is not a failure the user can fix by a setting. */
    public static String userMessage(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof OutOfMemoryError || c instanceof WorkerOutOfMemoryError) {
                return oomLine(c);
            }
        }
        String text = String.valueOf(t.getMessage());
        String worker = WorkerOutOfMemoryError.class.getName() + ": ";
        if (text.contains(worker)) {
            return firstLine(text.substring(text.indexOf(worker) + worker.length()));
        }
        if (text.contains("java.lang.OutOfMemoryError")) {
            return firstLine(text.substring(text.indexOf("java.lang.OutOfMemoryError")));
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof IllegalArgumentException || c instanceof SparkVersionCheck.Mismatch) {
                return firstLine(c.getMessage());
            }
        }
        String iae = IllegalArgumentException.class.getName() + ": ";
        int at = text.indexOf(iae);
        return at < 0 ? null : firstLine(text.substring(at + iae.length()));
    }

    private static String oomLine(Throwable c) {
        if (c instanceof WorkerOutOfMemoryError) {
            return firstLine(c.getMessage());
        }
        return "out of memory (" + c.getMessage() + "): " + RAISE_MEMORY;
    }

    private static String firstLine(String s) {
        String line = String.valueOf(s).strip();
        int nl = line.indexOf('\n');
        return nl < 0 ? line : line.substring(0, nl).strip();
    }

    /** Heap size as people write it, e.g. {@code 1.0 GiB}. */
    static String heap() {
        return String.format(Locale.ROOT, "%.1f GiB", Runtime.getRuntime().maxMemory() / (double) (1L << 30));
    }
}
