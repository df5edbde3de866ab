package io.qsync.lowprec.quant;

import io.qsync.lowprec.ArrayAllocator;
import io.qsync.lowprec.ArrayRounding;
import io.qsync.lowprec.FloatRounding;
import io.qsync.lowprec.Precision;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-tensor amax-scaled FP8 quantization (Transformer Engine's "hybrid" recipe: E4M3 for
 * activations and weights, E5M2 for gradients). {@code scale = amax / maxFinite(format)}, codes are
 * {@code round_fp8(x / scale)}, and the value is {@code codes * scale}. Current (not delayed) amax.
 */
public final class Fp8Quantizer {
    private Fp8Quantizer() {}

    /**
     * @param x      FP32 array
     * @param format {@link Precision#FP8_E4M3} or {@link Precision#FP8_E5M2}
     * @return codes (FP8 values as floats) with a per-tensor scale
     */
    public static QuantizedTensor quantize(INDArray x, Precision format) {
        return quantize(x, format, ArrayAllocator.FRESH, "fp8");
    }

    /**
     * @param x      FP32 array
     * @param format {@link Precision#FP8_E4M3} or {@link Precision#FP8_E5M2}
     * @param alloc  allocator for the codes
     * @param role   allocation role
     * @return codes (FP8 values as floats) with a per-tensor scale
     */
    public static QuantizedTensor quantize(INDArray x, Precision format, ArrayAllocator alloc, String role) {
        if (format != Precision.FP8_E4M3 && format != Precision.FP8_E5M2) {
            throw new IllegalArgumentException("FP8 quantizer needs FP8_E4M3 or FP8_E5M2, got " + format);
        }
        INDArray src = ArrayRounding.isLinearFloat(x) ? x : ArrayRounding.rounded(Precision.FP32, x);
        float amax = ArrayRounding.amax(src);
        float scale = (amax > 0f && amax < Float.POSITIVE_INFINITY) ? amax / format.maxFinite() : 1f;
        INDArray codes = ArrayRounding.map(src, alloc, role, (c, len, base) -> {
            for (int i = 0; i < len; i++) {
                c[i] = FloatRounding.round(format, c[i] / scale);
            }
        });
        return new QuantizedTensor(codes, new float[] {scale}, -1, format);
    }
}
