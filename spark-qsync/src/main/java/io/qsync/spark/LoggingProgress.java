package io.qsync.spark;

import io.qsync.runtime.EpochStats;
import io.qsync.runtime.ProgressSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress on the driver as SLF4J log lines (Spark's log4j2 configuration decides where they go): one INFO line per
 * tenth of an epoch and one per finished epoch. Used by {@link io.qsync.spark.ml.QSyncClassifier#fit}.
 */
public final class LoggingProgress implements ProgressSink {
    private static final Logger LOG = LoggerFactory.getLogger(LoggingProgress.class);
    private final int epochs;
    private int lastTenth = -1;

    /** {@code epochs}: the planned number of epochs. */
    public LoggingProgress(int epochs) {
        this.epochs = epochs;
    }

    @Override
    public synchronized void step(int epoch, int step, int stepsPerEpoch, double loss, double samplesPerSecond) {
        if (stepsPerEpoch <= 0) {
            return;
        }
        int tenth = (int) ((long) (step + 1) * 10 / stepsPerEpoch);
        if (tenth != lastTenth) {
            lastTenth = tenth;
            LOG.info(String.format(
                    "qsync: epoch %d/%d step %d/%d loss %.4f %.0f samples/s",
                    epoch + 1, epochs, step + 1, stepsPerEpoch, loss, samplesPerSecond));
        }
    }

    @Override
    public synchronized void epoch(EpochStats stats) {
        lastTenth = -1;
        LOG.info("qsync: " + stats.describe());
    }

    @Override
    public void close() {}
}
