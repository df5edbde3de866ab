package io.qsync.planner.indicator;

import io.qsync.lowprec.Precision;
import io.qsync.planner.stats.LayerStatistics;

/**
 * WVAR, QSync's baseline from Zhang et al. (CVPR'20), reference §4.3:
 * {@code ω_l(b) = log2(|Σ|Q_b(W)| − Σ|W|| / Σ|W| + 1)}, the relative change of the weights' L1 mass under the
 * layer's weight quantizer. It is 0 for FP32 by construction and ignores depth and activations.
 */
public final class WvarIndicator implements PerLayerIndicator {
    /** Creates the indicator. */
    public WvarIndicator() {}

    @Override
    public String name() {
        return "wvar";
    }

    /**
     * @param s layer statistics (with weight quantization for {@code p})
     * @param p precision
     * @return {@code log2(|Σ|Q_p(W)| − Σ|W|| / Σ|W| + 1)}, 0 for FP32
     */
    @Override
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
