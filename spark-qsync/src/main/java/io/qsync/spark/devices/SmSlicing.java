package io.qsync.spark.devices;

import io.qsync.lowprec.cuda.GreenContext;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * <b>Experimental.</b> Puts a GPU worker on its slice of the card ({@code spark.qsync.experimental.smFraction}):
 * odd ranks on a green context of about that share of the SMs with the weak memory cap, even ranks on the rest (a
 * one-worker job runs on the strong slice alone: the baseline of a hybrid run). The
 * slice is installed on the task's thread before its engine opens (the CUDA backend re-applies it after selecting
 * the device: {@link GreenContext#reapply()}).
 */
public final class SmSlicing {
    private static final Logger LOG = LoggerFactory.getLogger(SmSlicing.class);

    private SmSlicing() {}

    /**
     * @param device     the worker's device
     * @param options    the slicing settings
     * @return what to close when the worker is done (a no-op when there is nothing to slice)
     */
    public static AutoCloseable install(WorkerDevice device, DiscoveryOptions options) {
        if (!device.isGpu() || options.smFraction() <= 0) {
            return () -> {};
        }
        boolean weak = device.rank() % 2 == 1;
        GreenContext g =
                GreenContext.create(device.ordinal(), options.smFraction(), weak, weak ? options.weakMemoryBytes() : 0);
        g.install();
        LOG.info("qsync rank {}: {}", device.rank(), g);
        queueAdvice(System.getenv(QUEUES_ENV)).ifPresent(w -> LOG.warn("qsync rank {}: {}", device.rank(), w));
        return g;
    }

    /** The environment variable that sets how many hardware work queues a process's CUDA streams spread over. */
    public static final String QUEUES_ENV = "CUDA_DEVICE_MAX_CONNECTIONS";

    /** The work queues slices sharing one process should have. */
    public static final int QUEUES = 32;

    /**
     * What to do when a slice's process has fewer than {@value #QUEUES} hardware work queues: two slices in one process
     * (local mode, or an executor running both workers) then share CUDA's default 8, and a stream of one slice can
     * queue behind the other's waiting copy stream, so one worker's step waits for the other's (benchmarks/RESULTS.md
     * §12h).
     *
     * @param value the variable's value in the worker's environment, or null
     * @return the advice, or empty when the value is at least {@value #QUEUES}
     */
    static Optional<String> queueAdvice(String value) {
        int queues = 8; // CUDA's default, also for a value it cannot read
        try {
            queues = Integer.parseInt(String.valueOf(value).trim());
        } catch (NumberFormatException e) {
            // unset or unreadable: the default
        }
        if (queues >= QUEUES) {
            return Optional.empty();
        }
        return Optional.of(String.format(
                Locale.ROOT,
                "%s is %s: SM slices sharing this process spread their streams over %d hardware work queues, and one "
                        + "worker's step can wait for another's; set %s=%d in the workers' environment "
                        + "(spark.executorEnv.%s=%d; for local mode, in the shell that starts the job)",
                QUEUES_ENV,
                value == null ? "unset (8)" : value,
                queues,
                QUEUES_ENV,
                QUEUES,
                QUEUES_ENV,
                QUEUES));
    }
}
