/**
 * Per-worker memory model: FP32 master parameters, gradients and updater state, plus the activations each
 * layer keeps for backward at its planned precision, plus a fixed context term.
 * {@link io.qsync.planner.memory.MemoryModel#predictBytes} returns a {@link io.qsync.planner.memory.MemoryPrediction}
 * with a per-layer breakdown.
 */
package io.qsync.planner.memory;
