package io.qsync.planner.cost;

import io.qsync.lowprec.Precision;

/**
 * One measured layer cost: median forward and backward time of a layer signature at a batch size and precision.
 *
 * @param signature       the layer
 * @param batch           examples per step
 * @param precision       compute precision
 * @param forwardSeconds  median forward time
 * @param backwardSeconds median backward time (input and weight gradients)
 */
public record LayerMeasurement(
        LayerSignature signature, int batch, Precision precision, double forwardSeconds, double backwardSeconds) {
    /** Checks the values. */
    public LayerMeasurement {
        if (batch <= 0 || forwardSeconds < 0 || backwardSeconds < 0 || precision == null) {
            throw new IllegalArgumentException("Bad measurement for " + signature + ": batch " + batch + ", "
                    + precision + ", fwd " + forwardSeconds + " s, bwd " + backwardSeconds + " s");
        }
    }
}
