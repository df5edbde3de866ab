package io.qsync.lowprec.quant;

import io.qsync.lowprec.ArrayAllocator;
import io.qsync.lowprec.ArrayRounding;
import io.qsync.lowprec.CounterRng;
import io.qsync.lowprec.Precision;
import java.io.Serializable;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Symmetric INT8 quantizer as in QSync ({@code quant.py}): zero point 0, {@code scale = amax / 127}
 * recomputed from the tensor on every call, codes clamped to [-127, 127]. An all-zero tensor (or
 * channel) gets scale 1 so that codes stay 0.
 *
 * <p>Immutable and {@link Serializable}: the switchable layer configurations hold their INT8 settings as one
 * instance of this record ({@code io.qsync.lowprec.layers.SwitchableLayerConfig}).
 *
 * @param granularity per tensor or per output channel
 * @param rounding    {@link IntRounding#TRUNCATE} (QSync), {@link IntRounding#NEAREST} or
 *                    {@link IntRounding#STOCHASTIC}
 * @param seed        seed for stochastic rounding (ignored otherwise)
 */
public record Int8Quantizer(Granularity granularity, IntRounding rounding, long seed) implements Serializable {
    /** Largest INT8 code used (symmetric range). */
    public static final int QMAX = 127;

    /** QSync's default: per tensor, truncation. */
    public static final Int8Quantizer QSYNC_DEFAULT =
            new Int8Quantizer(Granularity.PER_TENSOR, IntRounding.TRUNCATE, 0L);

    /** Validates arguments. */
    public Int8Quantizer {
        if (granularity == null || rounding == null) {
            throw new IllegalArgumentException("granularity and rounding must not be null");
        }
    }

    /**
     * Quantizes per tensor (ignores {@link #granularity()}); used for activations and gradients.
     *
     * @param x      FP32 array, any layout
     * @param stream stochastic-rounding stream id (e.g. derived from layer and iteration)
     * @return the codes and their scale
     */
    public QuantizedTensor quantizePerTensor(INDArray x, long stream) {
        return quantize(x, -1, stream, ArrayAllocator.FRESH, "int8");
    }

    /**
     * Quantizes a weight tensor with this quantizer's granularity.
     *
     * @param w           FP32 weights
     * @param channelAxis the output-channel axis (1 for DL4J dense {@code [nIn, nOut]}, 0 for conv
     *                    {@code [nOut, nIn, kH, kW]}); used only for {@link Granularity#PER_CHANNEL}
     * @param stream      stochastic-rounding stream id
     * @return the codes and their scale(s)
     */
    public QuantizedTensor quantizeWeights(INDArray w, int channelAxis, long stream) {
        return quantize(
                w, granularity == Granularity.PER_CHANNEL ? channelAxis : -1, stream, ArrayAllocator.FRESH, "int8");
    }

    /**
     * @param x           FP32 array
     * @param channelAxis per-channel axis, or -1 for per tensor
     * @param stream      stochastic-rounding stream id
     * @return the quantized tensor (new dense array)
     */
    public QuantizedTensor quantize(INDArray x, int channelAxis, long stream) {
        return quantize(x, channelAxis, stream, ArrayAllocator.FRESH, "int8");
    }

    /**
     * Like {@link #quantize(INDArray, int, long)}, with the codes array taken from {@code alloc}
     * when the fast path applies (per tensor, deterministic rounding, linear layout).
     *
     * @param x           FP32 array
     * @param channelAxis per-channel axis, or -1 for per tensor
     * @param stream      stochastic-rounding stream id
     * @param alloc       allocator for the codes
     * @param role        allocation role
     * @return the quantized tensor
     */
    public QuantizedTensor quantize(INDArray x, int channelAxis, long stream, ArrayAllocator alloc, String role) {
        if (channelAxis >= x.rank()) {
            throw new IllegalArgumentException("channelAxis " + channelAxis + " out of range for rank " + x.rank());
        }
        if (channelAxis < 0 && rounding != IntRounding.STOCHASTIC && ArrayRounding.isLinearFloat(x)) {
            // fast path: one read pass for amax, one read/write pass for the codes, buffer order kept
            float s = scaleFor(ArrayRounding.amax(x));
            INDArray codes =
                    ArrayRounding.map(x, alloc, role, (c, len, base) -> quantizeRun(c, 0, len, s, stream, base));
            return new QuantizedTensor(codes, new float[] {s}, -1, Precision.INT8);
        }
        INDArray codes = ArrayRounding.rounded(Precision.FP32, x);
        int channels = channelAxis < 0 ? 1 : (int) x.size(channelAxis);
        long inner = 1;
        for (int d = channelAxis + 1; channelAxis >= 0 && d < x.rank(); d++) {
            inner *= x.size(d);
        }
        final long innerSize = channelAxis < 0 ? codes.length() : inner;
        float[] scales = new float[channels];
        if (channels == 1) {
            float s = scaleFor(ArrayRounding.amax(codes));
            scales[0] = s;
            ArrayRounding.visit(codes, true, (c, len, base) -> quantizeRun(c, 0, len, s, stream, base));
        } else {
            float[] amax = new float[channels];
            ArrayRounding.visit(
                    codes,
                    false,
                    (c, len, base) -> forEachChannelRun(c, len, base, innerSize, channels, (from, to, ch, b) -> {
                        float a = amax[ch];
                        for (int i = from; i < to; i++) {
                            a = Math.max(a, Math.abs(c[i]));
                        }
                        amax[ch] = a;
                    }));
            for (int ch = 0; ch < channels; ch++) {
                scales[ch] = scaleFor(amax[ch]);
            }
            ArrayRounding.visit(
                    codes,
                    true,
                    (c, len, base) -> forEachChannelRun(
                            c,
                            len,
                            base,
                            innerSize,
                            channels,
                            (from, to, ch, b) -> quantizeRun(c, from, to, scales[ch], stream, b)));
        }
        return new QuantizedTensor(codes, scales, channelAxis, Precision.INT8);
    }

    /**
     * A per-tensor quantization together with the FP16 backward copy of its dequantized values.
     *
     * @param quantized the codes and scale (as {@link #quantize} returns them)
     * @param fp16      {@code FP16(code·scale)} per element, same shape and order as the codes
     */
    public record WithFp16(QuantizedTensor quantized, INDArray fp16) {}

    /**
     * Per-tensor quantization that also writes the FP16-rounded dequantized values (QSync's INT8
     * backward operand) in the same pass: one read of {@code x} for amax, one read and two writes
     * for codes and FP16 copy. Results are bitwise those of {@link #quantize} followed by
     * {@link #fp16Table} lookups.
     *
     * @param x        FP32 array
     * @param stream   stochastic-rounding stream id (unused: only deterministic rounding takes this path)
     * @param alloc    allocator for both arrays
     * @param role     allocation role of the codes
     * @param fp16Role allocation role of the FP16 copy
     * @return both arrays, or null if the fused path does not apply (stochastic rounding or a
     *         non-linear layout); the caller then quantizes and converts separately
     */
    public WithFp16 quantizeWithFp16(INDArray x, long stream, ArrayAllocator alloc, String role, String fp16Role) {
        if (rounding == IntRounding.STOCHASTIC || !ArrayRounding.isLinearFloat(x)) {
            return null;
        }
        float s = scaleFor(ArrayRounding.amax(x));
        float[] lut = fp16Table(s);
        boolean truncate = rounding == IntRounding.TRUNCATE;
        INDArray[] r = ArrayRounding.map2(x, alloc, role, fp16Role, (c, d, len, base) -> {
            if (truncate) {
                for (int i = 0; i < len; i++) {
                    int q = (int) (c[i] / s); // same as clamping (float) (int) (c/s) in float
                    q = q < -QMAX ? -QMAX : (q > QMAX ? QMAX : q);
                    c[i] = q;
                    d[i] = lut[q + QMAX];
                }
            } else {
                for (int i = 0; i < len; i++) {
                    float q = Math.max(-QMAX, Math.min(QMAX, (float) Math.rint(c[i] / s)));
                    c[i] = q;
                    d[i] = lut[(int) q + QMAX];
                }
            }
        });
        return new WithFp16(new QuantizedTensor(r[0], new float[] {s}, -1, Precision.INT8), r[1]);
    }

    /**
     * @param s per-tensor scale
     * @return the 255-entry table {@code FP16(q·s)} for codes {@code q} in [-127, 127], indexed by {@code q + 127}
     */
    public static float[] fp16Table(float s) {
        float[] lut = new float[2 * QMAX + 1];
        for (int q = -QMAX; q <= QMAX; q++) {
            lut[q + QMAX] = io.qsync.lowprec.FloatRounding.roundFp16(q * s);
        }
        return lut;
    }

    /** A run of consecutive elements that share one channel. */
    @FunctionalInterface
    private interface ChannelRun {
        void apply(int from, int to, int channel, long baseOfFrom);
    }

    /** Splits a chunk into runs of equal channel ({@code channel = (index / inner) % channels}). */
    private static void forEachChannelRun(float[] c, int len, long base, long inner, int channels, ChannelRun run) {
        int i = 0;
        while (i < len) {
            long idx = base + i;
            int ch = (int) ((idx / inner) % channels);
            int end = (int) Math.min(len, i + (inner - idx % inner));
            run.apply(i, end, ch, idx);
            i = end;
        }
    }

    /** Quantizes {@code c[from, to)} in place with one scale; {@code baseOfFrom} is the flat index of {@code c[from]}. */
    private void quantizeRun(float[] c, int from, int to, float s, long stream, long baseOfFrom) {
        switch (rounding) {
            case TRUNCATE:
                for (int i = from; i < to; i++) {
                    c[i] = Math.max(-QMAX, Math.min(QMAX, (float) (int) (c[i] / s)));
                }
                break;
            case NEAREST:
                for (int i = from; i < to; i++) {
                    c[i] = Math.max(-QMAX, Math.min(QMAX, (float) Math.rint(c[i] / s)));
                }
                break;
            default:
                for (int i = from; i < to; i++) {
                    c[i] = code(c[i] / s, stream, baseOfFrom + (i - from));
                }
        }
    }

    /**
     * @param amax max |x|
     * @return {@code amax / 127}, or 1 when {@code amax} is 0 or not finite-positive
     */
    public static float scaleFor(float amax) {
        return (amax > 0f && amax < Float.POSITIVE_INFINITY) ? amax / QMAX : 1f;
    }

    /**
     * Rounds one scaled value to an INT8 code.
     *
     * @param v      value already divided by the scale
     * @param stream stochastic stream id
     * @param index  element index (for the counter-based RNG)
     * @return code in [-127, 127] as a float
     */
    public float code(float v, long stream, long index) {
        return Math.max(-QMAX, Math.min(QMAX, rawCode(v, stream, index)));
    }

    /**
     * The code before clamping to [-127, 127]; {@link #code} clamps it. A value whose raw code lies outside the range
     * saturates (only possible when the scale is not the tensor's own, e.g. {@link Int8DelayedScaling}).
     *
     * @param v      value already divided by the scale
     * @param stream stochastic stream id
     * @param index  element index (for the counter-based RNG)
     * @return the rounded value as a float
     */
    public float rawCode(float v, long stream, long index) {
        float q;
        switch (rounding) {
            case TRUNCATE:
                q = (float) (int) v;
                break;
            case NEAREST:
                q = (float) Math.rint(v);
                break;
            default:
                q = (float) Math.floor(v + CounterRng.roundingUniform(seed, stream, index));
                break;
        }
        return q;
    }
}
