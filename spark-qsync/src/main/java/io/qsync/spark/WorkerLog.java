package io.qsync.spark;

import io.qsync.lowprec.layers.PrecisionPlan;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's lines in its executor's log (SLF4J, so Spark's log4j2 configuration decides): rank, host, device
 * backend, precision plan and rows at the start, the step rate at most every 30 s, and a summary at the end.
 */
final class WorkerLog {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerLog.class);
    private static final long EVERY_NANOS = 30_000_000_000L;
    private final int rank;
    private final long start = System.nanoTime();
    private long lastNanos = start;
    private long lastStep = -1;
    private long steps;

    /**
     * @param backend the training backend's name as requested ({@code cpu}, {@code cuda} or {@code auto})
     * @param ordinal the task's device ordinal (used by device backends)
     */
    WorkerLog(int rank, int workers, String host, int rows, PrecisionPlan plan, String backend, int ordinal) {
        this.rank = rank;
        LOG.info(
                "qsync worker {} of {} on {}: backend {}, plan {}, {} rows",
                rank,
                workers,
                host,
                "cpu".equals(backend)
                        ? "cpu (ND4J " + Nd4j.getBackend().getClass().getSimpleName() + ", "
                                + Nd4j.getEnvironment().maxThreads() + " native threads)"
                        : backend + " (device ordinal " + ordinal + ")",
                describe(plan),
                rows);
    }

    /** Precisions and how many layers use each, e.g. {@code FP32 x4, INT8 x7}. */
    static String describe(PrecisionPlan plan) {
        if (plan == null || plan.layers().isEmpty()) {
            return "FP32 (the network's own layers)";
        }
        Map<String, Long> counts = new TreeMap<>(
                plan.layers().values().stream().collect(Collectors.groupingBy(Enum::name, Collectors.counting())));
        return counts.entrySet().stream()
                .map(e -> e.getKey() + " x" + e.getValue())
                .collect(Collectors.joining(", "));
    }

    void step(int epoch, int step, long globalStep, double loss) {
        steps = globalStep + 1;
        long now = System.nanoTime();
        if (now - lastNanos >= EVERY_NANOS) {
            double rate = (globalStep - lastStep) / ((now - lastNanos) / 1e9);
            LOG.info(String.format(
                    "qsync worker %d: epoch %d step %d, %.2f steps/s, loss %.4f",
                    rank, epoch + 1, step + 1, rate, loss));
            lastNanos = now;
            lastStep = globalStep;
        }
    }

    void done() {
        double secs = (System.nanoTime() - start) / 1e9;
        LOG.info(String.format(
                "qsync worker %d done: %d steps in %.1f s (%.2f steps/s)",
                rank, steps, secs, steps / Math.max(secs, 1e-9)));
    }
}
