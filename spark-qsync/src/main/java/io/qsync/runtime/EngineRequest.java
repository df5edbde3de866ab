package io.qsync.runtime;

import io.qsync.lowprec.layers.PrecisionPlan;

/**
 * What a worker asks a {@link TrainingBackend} for.
 *
 * @param model     the network to train (every worker restores the identical model from it)
 * @param plan      this worker's per-layer precision plan, or null to train the network as it is configured
 * @param device    device ordinal within what the task was given (Spark's GPU address for a GPU backend), or -1
 *                  for the backend's default
 * @param threads   host threads the engine may use (native BLAS/OpenMP for the CPU backend), 0 = leave the
 *                  process' setting as it is
 * @param batchSize the largest local batch the engine will see (device buffers are sized for it)
 */
public record EngineRequest(ModelSpec model, PrecisionPlan plan, int device, int threads, int batchSize) {

    /** Checks the fields. */
    public EngineRequest {
        if (model == null) {
            throw new IllegalArgumentException("an engine request needs a model");
        }
        if (threads < 0 || batchSize < 1) {
            throw new IllegalArgumentException(
                    "an engine request needs threads >= 0 and batchSize >= 1, got " + threads + ", " + batchSize);
        }
    }
}
