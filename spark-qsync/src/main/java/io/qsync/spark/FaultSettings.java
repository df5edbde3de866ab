package io.qsync.spark;

import java.io.Serializable;
import java.time.Duration;
import java.util.Map;

/**
 * How a training job guards against faults, read from {@code spark.qsync.*} settings.
 *
 * @param slotWait longest wait for {@code numWorkers} task slots per attempt of the barrier stage
 *                 ({@code spark.qsync.slotWaitTimeout})
 * @param allowPlaintext let gradients travel unencrypted while Spark encrypts ({@code spark.qsync.comm.allowPlaintext})
 * @param checkpointDir  checkpoint directory, empty for none ({@code spark.qsync.checkpoint.dir})
 * @param checkpointEvery steps between checkpoints ({@code spark.qsync.checkpoint.everySteps})
 * @param resume         continue from the newest checkpoint ({@code spark.qsync.checkpoint.resume})
 */
public record FaultSettings(
        Duration slotWait, boolean allowPlaintext, String checkpointDir, int checkpointEvery, boolean resume)
        implements Serializable {

    /** Validates. */
    public FaultSettings {
        if (slotWait == null || slotWait.isNegative() || slotWait.isZero()) {
            throw new IllegalArgumentException(
                    "spark.qsync.slotWaitTimeout must be a positive duration, got " + slotWait);
        }
        checkpointDir = checkpointDir == null ? "" : checkpointDir.trim();
        if (resume && checkpointDir.isEmpty()) {
            throw new IllegalArgumentException("spark.qsync.checkpoint.resume needs spark.qsync.checkpoint.dir: the "
                    + "directory of the stopped job's checkpoints");
        }
    }

    /** Reads the settings (defaults for missing keys). */
    public static FaultSettings from(Map<String, String> s) {
        return new FaultSettings(
                QSyncConf.SLOT_WAIT_TIMEOUT.read(s),
                QSyncConf.ALLOW_PLAINTEXT.read(s),
                QSyncConf.CHECKPOINT_DIR.read(s),
                QSyncConf.CHECKPOINT_EVERY.read(s),
                QSyncConf.CHECKPOINT_RESUME.read(s));
    }

    /** The checkpoint store, or null without a checkpoint directory. */
    HadoopCheckpointStore checkpoints() {
        return checkpointDir.isEmpty() ? null : new HadoopCheckpointStore(checkpointDir);
    }
}
