/**
 * Per-layer statistics for the indicators (QSync §4.1): activation/weight scales, sizes and norms, weight gradient
 * norms, the weight quantization error of every precision, and an estimate of each layer's loss-Hessian trace.
 * {@link io.qsync.planner.stats.ModelStatistics} is plain data that serializes to JSON; it is collected from a live
 * network by {@link io.qsync.profile.StatisticsCollector} (on an executor or the driver) and read by the indicators.
 */
package io.qsync.planner.stats;
