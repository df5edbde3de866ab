package io.qsync.planner.stats;

import io.qsync.lowprec.Precision;
import java.util.Map;
import java.util.TreeMap;

/**
 * Statistics of one switchable layer (QSync §4.1), each a mean over the profiled FP32 minibatches unless
 * noted. v is the layer's input (after any input preprocessor), w its weight parameter {@code W}, the output
 * is the layer's output activation.
 *
 * @param layerId            stable layer id
 * @param samples            number of minibatches averaged
 * @param sV                 mean of {@code max|v| / 127}
 * @param sW                 mean of {@code max|w| / 127}
 * @param dV                 mean of {@code numel(v)} (whole minibatch)
 * @param dW                 {@code numel(w)}
 * @param dVV                mean of {@code numel(output)} (whole minibatch)
 * @param normV              mean of {@code ‖v‖} (Frobenius, not squared, as QSync)
 * @param normW              mean of {@code ‖w‖}
 * @param gradNorm           {@code ‖∇W‖} of the gradient of the mean loss over all profiled minibatches
 * @param gradMaxAbs         {@code max|∇W|} of the same gradient
 * @param weightSumAbs       {@code Σ|W|}
 * @param weightQuantization per precision, the weight perturbation {@link WeightQuantization}
 * @param hessianTrace       Hutchinson estimate of {@code tr(∂²L/∂W²)} for this layer's weights (0 if not estimated)
 * @param hessianSamples     number of Hutchinson probe vectors behind {@code hessianTrace} (0 = not estimated)
 */
public record LayerStatistics(
        String layerId,
        int samples,
        double sV,
        double sW,
        double dV,
        double dW,
        double dVV,
        double normV,
        double normW,
        double gradNorm,
        double gradMaxAbs,
        double weightSumAbs,
        Map<Precision, WeightQuantization> weightQuantization,
        double hessianTrace,
        int hessianSamples) {

    /** Copies the precision map (sorted, unmodifiable). */
    public LayerStatistics {
        weightQuantization = java.util.Collections.unmodifiableMap(
                new TreeMap<>(weightQuantization == null ? Map.of() : weightQuantization));
    }

    /**
     * @param p precision
     * @return its weight perturbation
     * @throws IllegalArgumentException if it was not collected
     */
    public WeightQuantization quantization(Precision p) {
        WeightQuantization q = weightQuantization.get(p);
        if (q == null) {
            throw new IllegalArgumentException("No weight quantization statistics for " + p + " in layer " + layerId
                    + "; collect statistics with that precision in the menu");
        }
        return q;
    }

    /**
     * Statistics with only the §4.1 fields (for hand-computed cases and tests).
     *
     * @return a record without weight-quantization or Hessian data
     */
    public static LayerStatistics of(
            String layerId,
            double sV,
            double sW,
            double dV,
            double dW,
            double dVV,
            double normV,
            double normW,
            double gradNorm,
            double gradMaxAbs) {
        return new LayerStatistics(
                layerId, 1, sV, sW, dV, dW, dVV, normV, normW, gradNorm, gradMaxAbs, 0, Map.of(), 0, 0);
    }
}
