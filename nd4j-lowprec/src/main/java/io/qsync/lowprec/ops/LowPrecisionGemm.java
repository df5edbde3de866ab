package io.qsync.lowprec.ops;

import io.qsync.lowprec.ArrayAllocator;
import io.qsync.lowprec.ArrayRounding;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.Fp8Quantizer;
import io.qsync.lowprec.quant.Int8DelayedScaling;
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
    /** INT8 only, opt-in: delayed scaling of the activation X (null = QSync's per-forward dynamic scale). */
    private final Int8DelayedScaling delayedX;

    private final ArrayAllocator alloc;

    /**
     * @param precision layer precision
     * @param int8      INT8 quantizer settings (used only for {@link Precision#INT8})
     */
    public LowPrecisionGemm(Precision precision, Int8Quantizer int8) {
        this(precision, int8, ArrayAllocator.FRESH, 0);
    }

    /**
     * @param precision layer precision
     * @param int8      INT8 quantizer settings (used only for {@link Precision#INT8})
     * @param alloc     allocator for saved operands, its {@link ArrayAllocator#scratch()} for backward temporaries
     *                  (layers pass pooled ones; pooled arrays are overwritten by the next call with the same role)
     */
    public LowPrecisionGemm(Precision precision, Int8Quantizer int8, ArrayAllocator alloc) {
        this(precision, int8, alloc, 0);
    }

    /**
     * @param precision            layer precision
     * @param int8                 INT8 quantizer settings (used only for {@link Precision#INT8})
     * @param delayedScalingHistory 0 for QSync's dynamic per-forward activation scale (the default); H ≥ 1 for the
     *                             opt-in delayed scaling of X ({@link Int8DelayedScaling}, INT8 only: the scale comes
     *                             from the amax of the previous H forwards, values beyond it saturate). Weights keep
     *                             their own per-call scale.
     */
    public LowPrecisionGemm(Precision precision, Int8Quantizer int8, int delayedScalingHistory) {
        this(precision, int8, ArrayAllocator.FRESH, delayedScalingHistory);
    }

    /**
     * @param precision            layer precision
     * @param int8                 INT8 quantizer settings (used only for {@link Precision#INT8})
     * @param alloc                allocator for saved operands, its {@link ArrayAllocator#scratch()} for backward temporaries
     * @param delayedScalingHistory 0 = QSync's dynamic scale; H ≥ 1 = delayed scaling of X over H forwards
     */
    public LowPrecisionGemm(Precision precision, Int8Quantizer int8, ArrayAllocator alloc, int delayedScalingHistory) {
        if (precision == null || int8 == null || alloc == null) {
            throw new IllegalArgumentException("precision, int8 quantizer and allocator must not be null");
        }
        if (delayedScalingHistory < 0) {
            throw new IllegalArgumentException("delayedScalingHistory must be >= 0");
        }
        this.precision = precision;
        this.int8 = int8;
        this.delayedX = precision == Precision.INT8 && delayedScalingHistory > 0
                ? new Int8DelayedScaling(int8, delayedScalingHistory)
                : null;
        this.alloc = alloc;
    }

    /** @return the delayed-scaling state of X (its saturation count, history), or null in QSync's dynamic mode */
    public Int8DelayedScaling delayedScaling() {
        return delayedX;
    }

    /** @return the allocator this op uses */
    public ArrayAllocator allocator() {
        return alloc;
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
        return new GemmContext(precision, prepareInput(x, stream), prepareWeight(w, 1, stream), stream);
    }

    /**
     * Like {@link #prepare(INDArray, INDArray, long)}; with {@code forBackward} an INT8 op (per-tensor,
     * deterministic rounding, dynamic scaling) also writes the FP16 backward copies of the dequantized
     * X and W while quantizing them (one read of each operand for the codes, instead of a second pass
     * over the codes in backward). Results are bitwise the same either way.
     *
     * @param x           input {@code [M, K]} FP32
     * @param w           weight {@code [K, N]} FP32
     * @param stream      stochastic-rounding stream id
     * @param forBackward whether a backward pass will follow (training)
     * @return the saved operands
     */
    public GemmContext prepare(INDArray x, INDArray w, long stream, boolean forBackward) {
        if (!forBackward || precision != Precision.INT8 || delayedX != null) {
            return prepare(x, w, stream);
        }
        Int8Quantizer.WithFp16 qx = int8.quantizeWithFp16(x, 2 * stream, alloc, "x", "xb");
        Int8Quantizer.WithFp16 qw = int8.granularity() == io.qsync.lowprec.quant.Granularity.PER_CHANNEL
                ? null
                : int8.quantizeWithFp16(w, 2 * stream + 1, alloc, "w", "wb");
        return new GemmContext(
                precision,
                qx != null ? qx.quantized() : prepareInput(x, stream),
                qw != null ? qw.quantized() : prepareWeight(w, 1, stream),
                stream,
                qx != null ? qx.fp16() : null,
                qw != null ? qw.fp16() : null);
    }

    /**
     * Rounds or quantizes an activation operand (per tensor) for this precision.
     *
     * @param x      FP32 array of any shape
     * @param stream stochastic-rounding stream id
     * @return codes and scale ({@link Precision#FP32}: {@code x} itself, scale 1)
     */
    public QuantizedTensor prepareInput(INDArray x, long stream) {
        return prepare(x, stream, "x");
    }

    private QuantizedTensor prepare(INDArray x, long stream, String role) {
        switch (precision) {
            case FP32:
                return new QuantizedTensor(x, new float[] {1f}, -1, Precision.FP32);
            case INT8:
                if (delayedX != null) {
                    INDArray xc = x.castTo(DataType.FLOAT).dup('c');
                    Int8DelayedScaling.Result r = delayedX.quantize(xc.data().asFloat(), 2 * stream);
                    return new QuantizedTensor(
                            Nd4j.create(r.codes(), x.shape(), 'c'), new float[] {r.scale()}, -1, Precision.INT8);
                }
                return int8.quantize(x, -1, 2 * stream, alloc, role);
            case FP8_E4M3:
            case FP8_E5M2:
                return Fp8Quantizer.quantize(x, precision, alloc, role);
            default:
                return new QuantizedTensor(
                        ArrayRounding.rounded(precision, x, alloc, role), new float[] {1f}, -1, precision);
        }
    }

    /**
     * Rounds or quantizes a weight operand for this precision.
     *
     * @param w           FP32 weights
     * @param channelAxis output-channel axis (for INT8 per-channel scales)
     * @param stream      stochastic-rounding stream id
     * @return codes and scale(s)
     */
    public QuantizedTensor prepareWeight(INDArray w, int channelAxis, long stream) {
        if (precision == Precision.INT8) {
            int axis = int8.granularity() == io.qsync.lowprec.quant.Granularity.PER_CHANNEL ? channelAxis : -1;
            return int8.quantize(w, axis, 2 * stream + 1, alloc, "w");
        }
        return prepare(w, stream, "w");
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
            if (qw.perTensor()
                    && ArrayRounding.isDenseFloat(out)
                    && out.rank() == 2
                    && (b == null || b.length() == out.size(1))) {
                scaleAndBias(out, qx.scale() * qw.scale(), b);
                return out;
            }
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

    /**
     * {@code out = out·alpha + b} (row vector) in one Java pass over a c-ordered {@code [M, N]} array;
     * two FP32 roundings per element (Java never contracts to FMA), bitwise what {@code muli} followed by
     * {@code addiRowVector} computes.
     */
    private static void scaleAndBias(INDArray out, float alpha, INDArray b) {
        int n = (int) out.size(1);
        float[] bias = b == null ? null : new float[n];
        if (bias != null && ArrayRounding.isDenseFloat(b)) { // bulk copy from the (parameter view's) buffer
            b.data()
                    .asNio()
                    .order(java.nio.ByteOrder.nativeOrder())
                    .asFloatBuffer()
                    .get((int) b.offset(), bias);
        } else if (bias != null) {
            System.arraycopy(b.reshape(n).toFloatVector(), 0, bias, 0, n);
        }
        ArrayRounding.visit(out, true, (c, len, base) -> {
            if (bias == null) {
                for (int i = 0; i < len; i++) {
                    c[i] = c[i] * alpha;
                }
                return;
            }
            int j = (int) (base % n);
            for (int i = 0; i < len; i++) {
                c[i] = c[i] * alpha + bias[j];
                if (++j == n) {
                    j = 0;
                }
            }
        });
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
     * An operand of the backward GEMMs: values and the scale they are multiplied by.
     *
     * @param values FP32 array holding values of the backward precision
     * @param scale  per-tensor scale (1 except for FP8)
     */
    public record BackwardOperand(INDArray values, float scale) {}

    /**
     * Converts a saved forward operand to its backward form: INT8 codes are dequantized and rounded
     * to FP16 (into a scratch array: valid until the next request of {@code role}); other precisions keep
     * their saved values and scale.
     *
     * @param saved operand saved by forward
     * @param role  allocation role for the converted values (distinct per operand)
     * @return the backward operand
     */
    public BackwardOperand backwardOperand(QuantizedTensor saved, String role) {
        if (precision != Precision.INT8) {
            return new BackwardOperand(saved.codes(), saved.scales()[0]);
        }
        INDArray d = saved.perTensor() ? fp16Dequantized(saved.codes(), saved.scale(), role) : saved.dequantize();
        if (!saved.perTensor()) {
            ArrayRounding.roundInPlace(Precision.FP16, d);
        }
        return new BackwardOperand(d, 1f);
    }

    /** FP16(code·s) for INT8 codes via a 255-entry table (codes are integers in [-127, 127]). */
    private INDArray fp16Dequantized(INDArray codes, float s, String role) {
        float[] lut = Int8Quantizer.fp16Table(s);
        return ArrayRounding.map(codes, alloc.scratch(), role, (c, len, base) -> {
            for (int i = 0; i < len; i++) {
                c[i] = lut[(int) c[i] + Int8Quantizer.QMAX];
            }
        });
    }

    /**
     * Converts the output gradient to its backward form: FP16 for INT8/FP16, the layer's format for
     * BF16/TF32, per-tensor amax-scaled E5M2 for FP8, unchanged for FP32.
     *
     * @param dz output gradient
     * @return the backward operand
     */
    public BackwardOperand gradientOperand(INDArray dz) {
        switch (precision) {
            case FP32:
                return new BackwardOperand(dz, 1f);
            case INT8:
                return new BackwardOperand(ArrayRounding.rounded(Precision.FP16, dz, alloc.scratch(), "g"), 1f);
            case FP8_E4M3:
            case FP8_E5M2:
                QuantizedTensor qg = Fp8Quantizer.quantize(dz, Precision.FP8_E5M2, alloc.scratch(), "g");
                return new BackwardOperand(qg.codes(), qg.scale());
            default:
                return new BackwardOperand(ArrayRounding.rounded(precision, dz, alloc.scratch(), "g"), 1f);
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
        BackwardOperand xb =
                ctx.xBackward() != null ? new BackwardOperand(ctx.xBackward(), 1f) : backwardOperand(ctx.x(), "xb");
        BackwardOperand wb =
                ctx.wBackward() != null ? new BackwardOperand(ctx.wBackward(), 1f) : backwardOperand(ctx.w(), "wb");
        backward(xb, wb, dz, dxOut, dwOut, dbOut);
    }

    /**
     * Backward pass on operands already in backward form.
     *
     * @param x     backward input operand {@code [M, K]}
     * @param w     backward weight operand {@code [K, N]}
     * @param dz    gradient w.r.t. the GEMM output {@code [M, N]}
     * @param dxOut {@code [M, K]} result, or null to skip dX
     * @param dwOut {@code [K, N]} result
     * @param dbOut {@code [1, N]} result, or null
     */
    public void backward(
            BackwardOperand x, BackwardOperand w, INDArray dz, INDArray dxOut, INDArray dwOut, INDArray dbOut) {
        if (dbOut != null) {
            dz.sum(dbOut, 0);
        }
        BackwardOperand g = gradientOperand(dz);
        if (dxOut != null) {
            Nd4j.gemm(g.values(), w.values(), dxOut, false, true, g.scale() * w.scale(), 0.0);
        }
        Nd4j.gemm(x.values(), g.values(), dwOut, true, false, x.scale() * g.scale(), 0.0);
    }
}
