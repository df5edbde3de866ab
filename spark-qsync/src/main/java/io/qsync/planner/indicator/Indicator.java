package io.qsync.planner.indicator;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.stats.ModelStatistics;
import java.util.Collection;

/**
 * A per-layer, per-precision sensitivity indicator ω(layer, precision): larger means running the layer in that
 * precision hurts the model more; ω(l, FP32) = 0.
 */
public interface Indicator {
  /** @return short name ({@code gvar}, {@code wvar}, {@code hess}) */
  String name();

  /**
   * @param stats statistics of the switchable layers
   * @param graph the network's layer graph (depths)
   * @param menu  precisions to score
   * @return ω for every profiled switchable layer and every precision of the menu
   */
  IndicatorTable compute(ModelStatistics stats, LayerGraph graph, Collection<Precision> menu);
}
