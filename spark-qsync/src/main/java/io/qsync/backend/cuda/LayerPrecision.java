package io.qsync.backend.cuda;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.Int8Quantizer;

/**
 * The precision a GEMM layer of a program runs in, from the plan applied to its switchable DL4J layer.
 *
 * @param precision the layer's precision (FP32: the plain FP32 GEMMs)
 * @param int8      its INT8 quantizer settings
 * @param rngStream its stochastic-rounding stream id
 */
record LayerPrecision(Precision precision, Int8Quantizer int8, long rngStream) {
    static final LayerPrecision FP32 = new LayerPrecision(Precision.FP32, Int8Quantizer.QSYNC_DEFAULT, 0);

    boolean lowered() {
        return precision != Precision.FP32;
    }
}
