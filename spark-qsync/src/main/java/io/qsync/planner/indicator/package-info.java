/**
 * Sensitivity indicators ω(layer, precision) as pure functions of {@link io.qsync.planner.stats.ModelStatistics},
 * {@link io.qsync.planner.graph.LayerGraph} and a precision menu: QSync's bi-directional GVAR
 * ({@link io.qsync.planner.indicator.GvarIndicator}), the WVAR baseline
 * ({@link io.qsync.planner.indicator.WvarIndicator}) and a Hutchinson loss-Hessian indicator
 * ({@link io.qsync.planner.indicator.HessianIndicator}). Every indicator is 0 for FP32; larger means more
 * sensitive. Results are {@link io.qsync.planner.indicator.IndicatorTable}s.
 */
package io.qsync.planner.indicator;
