package io.qsync.spark.devices;

import io.qsync.lowprec.cuda.GreenContext;
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
        return g;
    }
}
