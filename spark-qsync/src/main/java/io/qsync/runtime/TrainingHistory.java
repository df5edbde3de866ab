package io.qsync.runtime;

import java.io.Serializable;
import java.util.List;

/**
 * What a training run did, as seen by rank 0.
 *
 * @param workers     number of workers
 * @param epochs      per-epoch statistics
 * @param stepLosses  global-batch loss of every step, in order
 * @param stepMillis  wall time of every step, in order
 */
public record TrainingHistory(int workers, List<EpochStats> epochs, float[] stepLosses, float[] stepMillis)
        implements Serializable {

    /** The last epoch's statistics. */
    public EpochStats last() {
        return epochs.get(epochs.size() - 1);
    }

    /** Median step time over all steps after the first {@code skip} (warm-up) steps, in milliseconds. */
    public double medianStepMillis(int skip) {
        int n = stepMillis.length - Math.min(skip, stepMillis.length - 1);
        float[] t = new float[n];
        System.arraycopy(stepMillis, stepMillis.length - n, t, 0, n);
        java.util.Arrays.sort(t);
        return n % 2 == 1 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2.0;
    }
}
