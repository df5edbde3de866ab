package io.qsync.planner.cost;

import io.qsync.lowprec.Precision;

/**
 * Per-layer durations measured inside real training steps, reduced to medians: what {@link StepCalibration} fits a
 * device profile from. A backend's profiling clock provides them (layer callbacks on the CPU, device events on a GPU).
 */
public interface LayerSamples {

    /**
     * @param layerIndex layer index in its network
     * @param p          precision the layer ran at
     * @param backward   direction
     * @return median seconds after the warm-up samples, NaN if nothing was recorded
     */
    double medianSeconds(int layerIndex, Precision p, boolean backward);

    /** Number of samples recorded for a layer, precision and direction. */
    int count(int layerIndex, Precision p, boolean backward);

    /**
     * Σ thread CPU time / Σ wall time over the recorded layer calls: 1 when the layers ran undisturbed, about 0.5 when
     * their threads shared a core with another busy process; 1 when the clock cannot tell (a device clock).
     */
    double cpuShare();
}
