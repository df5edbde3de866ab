package io.qsync.planner.stats;

/**
 * How one precision perturbs a layer's weight tensor W (quantized exactly as the switchable layer does in
 * forward: INT8 with the layer's quantizer, FP8 with per-tensor amax scaling, other floats by rounding).
 *
 * @param sumAbsQuantized {@code Σ|Q_b(W)|}
 * @param squaredError    {@code ‖Q_b(W) − W‖²} (squared Frobenius norm of the perturbation)
 */
public record WeightQuantization(double sumAbsQuantized, double squaredError) {}
