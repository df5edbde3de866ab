package io.qsync.runtime;

import java.io.Serializable;

/**
 * What one epoch did.
 *
 * @param epoch            0-based epoch
 * @param steps            synchronous steps in the epoch
 * @param samples          training rows used
 * @param meanLoss         mean of the global-batch losses
 * @param seconds          wall time of the epoch's steps (evaluation excluded)
 * @param testAccuracy     accuracy on the evaluation set, or NaN without one
 * @param medianStepMillis median wall time of one step
 * @param phases           this rank's medians of each phase of its steps, or null (not measured: progress reports)
 */
public record EpochStats(
        int epoch,
        int steps,
        long samples,
        double meanLoss,
        double seconds,
        double testAccuracy,
        double medianStepMillis,
        StepPhases phases)
        implements Serializable {

    /** Training throughput over the epoch. */
    public double samplesPerSecond() {
        return seconds > 0 ? samples / seconds : Double.NaN;
    }

    /** One human-readable line. */
    public String describe() {
        String acc = Double.isNaN(testAccuracy) ? "n/a" : String.format("%.2f%%", 100 * testAccuracy);
        return String.format(
                "epoch %d: loss %.4f, test accuracy %s, %.0f samples/s (%d steps, %.1f s, median step %.1f ms)",
                epoch + 1, meanLoss, acc, samplesPerSecond(), steps, seconds, medianStepMillis);
    }
}
