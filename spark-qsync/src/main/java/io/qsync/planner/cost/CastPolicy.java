package io.qsync.planner.cost;

/** Where a device pays for precision conversions. */
public enum CastPolicy {
    /**
     * Real low-precision kernels (QSync on GPUs): tensors are converted only where a producer's output precision
     * differs from its consumer's input precision, plus the per-step weight cast of low-precision layers; the
     * Replayer inserts explicit cast nodes (neighbourhood rules).
     */
    NEIGHBOUR,
    /**
     * Emulated low precision (nd4j-lowprec on CPU): every low-precision layer rounds or quantizes its FP32 input and
     * weights itself, whatever its neighbours run, so the cost is already inside the measured layer time and no cast
     * nodes are inserted; fitted cast costs are only used to predict unmeasured layers.
     */
    IN_LAYER
}
