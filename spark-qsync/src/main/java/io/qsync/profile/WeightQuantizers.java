package io.qsync.profile;

import io.qsync.lowprec.ArrayRounding;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.SwitchableLayerConfig;
import io.qsync.lowprec.quant.Fp8Quantizer;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.planner.stats.WeightQuantization;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Applies a precision to a weight tensor the way the switchable layers do in forward: INT8 with the
 * layer's {@link Int8Quantizer} (per tensor or per output channel), FP8 per-tensor amax-scaled
 * ({@link Fp8Quantizer}), other floats by round-to-nearest ({@link ArrayRounding}).
 */
final class WeightQuantizers {
    private WeightQuantizers() {}

    /**
     * @param conf layer configuration (its INT8 quantizer is used if it is a switchable layer)
     * @param w    weights: dense {@code [nIn, nOut]} or conv {@code [nOut, nIn, kH, kW]}
     * @param p    precision
     * @return the perturbation statistics of {@code Q_p(w)}
     */
    static WeightQuantization measure(Layer conf, INDArray w, Precision p) {
        INDArray w2d =
                w.rank() == 4 ? w.permute(3, 2, 1, 0).reshape('f', w.size(1) * w.size(2) * w.size(3), w.size(0)) : w;
        INDArray q;
        switch (p) {
            case FP32 -> q = w2d;
            case INT8 -> q = int8(conf).quantizeWeights(w2d.dup('f'), 1, 1).dequantize();
            case FP8_E4M3, FP8_E5M2 -> q =
                    Fp8Quantizer.quantize(w2d.dup('f'), p).dequantize();
            default -> q = ArrayRounding.rounded(p, w2d.dup('f'));
        }
        double sumAbs = q.ameanNumber().doubleValue() * q.length();
        double sq =
                p == Precision.FP32 ? 0.0 : Math.pow(q.sub(w2d).norm2Number().doubleValue(), 2);
        return new WeightQuantization(sumAbs, sq);
    }

    private static Int8Quantizer int8(Layer conf) {
        return conf instanceof SwitchableLayerConfig s ? s.int8Quantizer() : Int8Quantizer.QSYNC_DEFAULT;
    }
}
