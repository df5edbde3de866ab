package io.qsync.planner.indicator;

import io.qsync.lowprec.Precision;
import io.qsync.planner.stats.LayerStatistics;

/**
 * HESS done properly (HAWQ-v2 style): {@code ω_l(b) = |tr(H_ll)| / D_w · ‖Q_b(W_l) − W_l‖²}, the second-order
 * Taylor estimate of the loss increase from perturbing layer l's weights by its quantization error, with the
 * Hessian block approximated by its mean diagonal. {@code tr(H_ll)} is the Hutchinson estimate of the
 * loss-Hessian trace from {@code io.qsync.profile.StatisticsCollector}; the absolute value guards against
 * negative estimates from few probes. QSync's HESS instead differentiates the quantized weight tensor with
 * {@code np.gradient} (not a loss Hessian); that quirk is not reproduced. FP32 scores 0.
 */
public final class HessianIndicator implements PerLayerIndicator {
    /** Creates the indicator. */
    public HessianIndicator() {}

    @Override
    public String name() {
        return "hess";
    }

    /**
     * @param s layer statistics with a Hessian trace and weight quantization for {@code p}
     * @param p precision
     * @return {@code |tr H| / D_w · ‖Q_p(W) − W‖²}, 0 for FP32
     */
    @Override
    public double omega(LayerStatistics s, Precision p) {
        if (p == Precision.FP32) {
            return 0.0;
        }
        if (s.hessianSamples() <= 0) {
            throw new IllegalArgumentException("HESS needs a Hessian trace for layer " + s.layerId()
                    + "; collect statistics with hutchinsonSamples > 0 (qsync profile-stats --hutchinson N)");
        }
        return Math.abs(s.hessianTrace()) / s.dW() * s.quantization(p).squaredError();
    }
}
