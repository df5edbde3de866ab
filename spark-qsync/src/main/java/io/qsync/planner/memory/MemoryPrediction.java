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
 * @param activationBytes Σ activations kept for backward
 * @param contextBytes    the fixed context term
 * @param totalBytes      everything
 */
public record MemoryPrediction(int batchSize, List<LayerMemory> layers, long paramBytes, long gradientBytes,
                               long updaterBytes, long activationBytes, long contextBytes, long totalBytes) {
  /** Copies the list. */
  public MemoryPrediction {
    layers = List.copyOf(layers);
  }
}
