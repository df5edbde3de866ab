/**
 * Per-layer statistics for the indicators (QSync §4.1), collected over K FP32 minibatches with
 * {@link io.qsync.planner.stats.StatisticsCollector}: activation/weight scales, sizes and norms, weight
 * gradient norms, the weight quantization error of every precision, and a Hutchinson estimate of each
 * layer's loss-Hessian trace. {@link io.qsync.planner.stats.ModelStatistics} serializes to JSON so it can
 * be collected on an executor and read on the driver.
 */
package io.qsync.planner.stats;
