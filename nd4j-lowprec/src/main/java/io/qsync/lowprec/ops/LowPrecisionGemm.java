package io.qsync.lowprec.ops;

import io.qsync.lowprec.ArrayRounding;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.Fp8Quantizer;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.QuantizedTensor;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code Z = X·W + b} and its backward pass with QSync's per-precision semantics (CPU emulation:
 * operands are rounded/quantized FP32 values, products accumulate in FP32 unless noted).
 *
 * <ul>
 *   <li><b>FP32</b>: plain FP32 GEMM.</li>
 *   <li><b>TF32, BF16, FP16</b>: forward rounds X and W to the format, FP32 accumulate, FP32 output;
 *       backward rounds dZ to the same format and uses the saved rounded X, W.</li>
 *   <li><b>INT8</b>: forward quantizes X per tensor and W per tensor or per output channel
 *       ({@link Int8Quantizer}), multiplies the integer codes with int32-accumulation semantics and
 *       scales once by {@code sx·sw} (FP32 output). The integer GEMM is exact: FP32 when
 *       {@code K·127² < 2^24} (K ≤ {@value #EXACT_FP32_INT8_K}), otherwise in FP64 (exact below 2^53),
 *       then converted to FP32 once like an int32 → float conversion. Backward is FP16: the saved codes
 *       are dequantized and rounded to FP16, dZ is rounded to FP16, FP32 accumulate.</li>
 *   <li><b>FP8_E4M3</b> (Transformer Engine's hybrid recipe): forward X, W per-tensor amax-scaled
 *       E4M3, backward dZ per-tensor amax-scaled E5M2 against the saved E4M3 operands.
 *       <b>FP8_E5M2</b>: the same with E5M2 operands in forward too; FP32 accumulate, results
 *       scaled once by the product of the two scales.</li>
 * </ul>
 * In all cases the bias is added in FP32, the bias gradient is the FP32 column sum of dZ, and dW, dX
 * are FP32 (QSync's simulation mode; master weights and weight gradients are FP32).
 */
public final class LowPrecisionGemm {
    /** Largest inner dimension for which an FP32 GEMM of INT8 codes is exact (K·127² < 2^24). */
    public static final int EXACT_FP32_INT8_K = 1040;

    private final Precision precision;
    private final Int8Quantizer int8;

    /**
     * @param precision layer precision
     * @param int8      INT8 quantizer settings (used only for {@link Precision#INT8})
     */
    public LowPrecisionGemm(Precision precision, Int8Quantizer int8) {
        if (precision == null || int8 == null) {
            throw new IllegalArgumentException("precision and int8 quantizer must not be null");
        }
        this.precision = precision;
        this.int8 = int8;
    }

    /** @return the precision this op runs in */
    public Precision precision() {
        return precision;
    }

    /**
     * Prepares the operands (rounds or quantizes X and W) for a forward pass.
     *
     * @param x      input {@code [M, K]} FP32
     * @param w      weight {@code [K, N]} FP32 (output channels along axis 1)
     * @param stream stochastic-rounding stream id (only INT8 STOCHASTIC uses it)
     * @return the saved operands
     */
    public GemmContext prepare(INDArray x, INDArray w, long stream) {
        QuantizedTensor qx;
        QuantizedTensor qw;
        switch (precision) {
            case FP32:
                qx = new QuantizedTensor(x, new float[] {1f}, -1, Precision.FP32);
                qw = new QuantizedTensor(w, new float[] {1f}, -1, Precision.FP32);
                break;
            case INT8:
                qx = int8.quantizePerTensor(x, 2 * stream);
                qw = int8.quantizeWeights(w, 1, 2 * stream + 1);
                break;
            case FP8_E4M3:
            case FP8_E5M2:
                qx = Fp8Quantizer.quantize(x, precision);
                qw = Fp8Quantizer.quantize(w, precision);
                break;
            default:
                qx = new QuantizedTensor(ArrayRounding.rounded(precision, x), new float[] {1f}, -1, precision);
                qw = new QuantizedTensor(ArrayRounding.rounded(precision, w), new float[] {1f}, -1, precision);
        }
        return new GemmContext(precision, qx, qw, stream);
    }

    /**
     * Forward pass {@code out = X·W + b}.
     *
     * @param ctx operands from {@link #prepare}
     * @param b   bias {@code [1, N]} or null
     * @param out result {@code [M, N]} FP32 (any order), overwritten
     * @return {@code out}
     */
    public INDArray forward(GemmContext ctx, INDArray b, INDArray out) {
        QuantizedTensor qx = ctx.x();
        QuantizedTensor qw = ctx.w();
        if (precision == Precision.INT8) {
            int8Gemm(qx.codes(), qw.codes(), out);
            if (qw.perTensor()) {
                out.muli(qx.scale() * qw.scale());
            } else {
                float[] s = qw.scales().clone();
                for (int j = 0; j < s.length; j++) {
                    s[j] = qx.scale() * s[j];
                }
                out.muliRowVector(Nd4j.createFromArray(s));
            }
        } else {
            float alpha = qx.scales()[0] * qw.scales()[0];
            Nd4j.gemm(qx.codes(), qw.codes(), out, false, false, alpha, 0.0);
        }
        if (b != null) {
            out.addiRowVector(b);
        }
        return out;
    }

    /** Exact integer GEMM of INT8 codes held in FP32 arrays. */
    private static void int8Gemm(INDArray a, INDArray b, INDArray out) {
        if (a.size(1) <= EXACT_FP32_INT8_K) {
            Nd4j.gemm(a, b, out, false, false, 1.0, 0.0);
        } else {
            INDArray acc = a.castTo(DataType.DOUBLE).mmul(b.castTo(DataType.DOUBLE));
            out.assign(acc.castTo(DataType.FLOAT));
        }
    }

    /**
     * Backward pass. Writes {@code dX = dZ·Wᵀ}, {@code dW = Xᵀ·dZ}, {@code db = Σ_rows dZ} in the
     * backward precision of the layer (see class doc).
     *
     * @param ctx    saved operands from forward
     * @param dz     gradient w.r.t. the GEMM output {@code [M, N]} (bias and activation excluded)
     * @param dxOut  {@code [M, K]} result, or null to skip dX
     * @param dwOut  {@code [K, N]} result
     * @param dbOut  {@code [1, N]} result, or null when there is no bias
     */
    public void backward(GemmContext ctx, INDArray dz, INDArray dxOut, INDArray dwOut, INDArray dbOut) {
        if (dbOut != null) {
            dz.sum(dbOut, 0);
        }
        INDArray xb;
        INDArray wb;
        INDArray gb;
        float sx = 1f;
        float sw = 1f;
        float sg = 1f;
        switch (precision) {
            case FP32:
                xb = ctx.x().codes();
                wb = ctx.w().codes();
                gb = dz;
                break;
            case INT8:
                xb = ctx.x().dequantize();
                ArrayRounding.roundInPlace(Precision.FP16, xb);
                wb = ctx.w().dequantize();
                ArrayRounding.roundInPlace(Precision.FP16, wb);
                gb = ArrayRounding.rounded(Precision.FP16, dz);
                break;
            case FP8_E4M3:
            case FP8_E5M2:
                QuantizedTensor qg = Fp8Quantizer.quantize(dz, Precision.FP8_E5M2);
                xb = ctx.x().codes();
                wb = ctx.w().codes();
                gb = qg.codes();
                sx = ctx.x().scale();
                sw = ctx.w().scale();
                sg = qg.scale();
                break;
            default:
                xb = ctx.x().codes();
                wb = ctx.w().codes();
                gb = ArrayRounding.rounded(precision, dz);
        }
        if (dxOut != null) {
            Nd4j.gemm(gb, wb, dxOut, false, true, sg * sw, 0.0);
        }
        Nd4j.gemm(xb, gb, dwOut, true, false, sx * sg, 0.0);
    }
}
