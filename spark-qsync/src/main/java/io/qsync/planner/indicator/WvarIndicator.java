package io.qsync.planner.indicator;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.stats.LayerStatistics;
import io.qsync.planner.stats.ModelStatistics;
import java.util.Collection;

/**
 * WVAR, QSync's baseline from Zhang et al. (CVPR'20), reference §4.3:
 * {@code ω_l(b) = log2(|Σ|Q_b(W)| − Σ|W|| / Σ|W| + 1)}, the relative change of the weights' L1 mass under the
 * layer's weight quantizer. It is 0 for FP32 by construction and ignores depth and activations.
 */
public final class WvarIndicator implements Indicator {
  /** Creates the indicator. */
  public WvarIndicator() {}

  @Override
  public String name() {
    return "wvar";
  }

  @Override
  public IndicatorTable compute(ModelStatistics stats, LayerGraph graph, Collection<Precision> menu) {
    return Indicator.perLayer(name(), stats, graph, menu, this::omega);
  }

  /**
   * @param s layer statistics (with weight quantization for {@code p})
   * @param p precision
   * @return {@code log2(|Σ|Q_p(W)| − Σ|W|| / Σ|W| + 1)}, 0 for FP32
   */
  public double omega(LayerStatistics s, Precision p) {
    if (p == Precision.FP32) {
      return 0.0;
    }
    if (!(s.weightSumAbs() > 0)) {
      throw new IllegalArgumentException("WVAR needs Σ|W| > 0 for layer " + s.layerId()
          + "; collect statistics with StatisticsCollector (weights all zero?)");
    }
    double rel = Math.abs(s.quantization(p).sumAbsQuantized() - s.weightSumAbs()) / s.weightSumAbs();
    return Math.log(rel + 1) / Math.log(2);
  }
}
