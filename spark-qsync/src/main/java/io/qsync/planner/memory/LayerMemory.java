package io.qsync.planner.memory;

import io.qsync.lowprec.Precision;

/**
 * Predicted bytes of one layer.
 *
 * @param layerId         layer id
 * @param precision       its planned precision
 * @param paramBytes      FP32 master parameters
 * @param gradientBytes   FP32 gradients
 * @param updaterBytes    FP32 updater state
 * @param activationBytes what the layer keeps from forward for backward at this batch size and precision
 */
public record LayerMemory(
        String layerId,
        Precision precision,
        long paramBytes,
        long gradientBytes,
        long updaterBytes,
        long activationBytes) {
    /** @return the sum of all parts */
    public long totalBytes() {
        return paramBytes + gradientBytes + updaterBytes + activationBytes;
    }
}
