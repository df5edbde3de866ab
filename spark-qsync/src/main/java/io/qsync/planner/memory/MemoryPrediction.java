package io.qsync.planner.memory;

import java.util.List;

/**
 * A memory prediction for one plan and batch size.
 *
 * @param batchSize       examples per worker iteration
 * @param layers          per-layer breakdown in graph order
 * @param paramBytes      Σ parameters
 * @param gradientBytes   Σ gradients
 * @param updaterBytes    Σ updater state
 * @param activationBytes Σ activations kept for backward (per layer, see {@link LayerMemory#activationBytes()})
 * @param sharedBytes     memory the layers share rather than each keep, not attributed to any layer: EMULATION, the
 *                        scratch pool of the network's emulated layers; DEVICE, 0
 * @param contextBytes    the fixed context term
 * @param totalBytes      everything
 */
public record MemoryPrediction(
        int batchSize,
        List<LayerMemory> layers,
        long paramBytes,
        long gradientBytes,
        long updaterBytes,
        long activationBytes,
        long sharedBytes,
        long contextBytes,
        long totalBytes) {
    /** Copies the list. */
    public MemoryPrediction {
        layers = List.copyOf(layers);
    }
}
