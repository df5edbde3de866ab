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
 */
public record FaultSettings(Duration slotWait, boolean allowPlaintext) implements Serializable {

  /** Validates. */
  public FaultSettings {
    if (slotWait == null || slotWait.isNegative() || slotWait.isZero()) {
      throw new IllegalArgumentException("spark.qsync.slotWaitTimeout must be a positive duration, got " + slotWait);
    }
  }

  /** Reads the settings (defaults for missing keys). */
  public static FaultSettings from(Map<String, String> s) {
    return new FaultSettings(QSyncConf.SLOT_WAIT_TIMEOUT.read(s), QSyncConf.ALLOW_PLAINTEXT.read(s));
  }
}
