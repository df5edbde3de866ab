package io.qsync.lowprec.cuda;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.IntRounding;

/**
 * Quantization, cast and im2col kernels ({@code quant_kernels.cu}, compiled by NVRTC for the device). Semantics
 * are those of the CPU emulation, bit for bit: {@link io.qsync.lowprec.FloatRounding} (RNE, saturating E4M3),
 * {@link io.qsync.lowprec.FloatCodec}, {@link io.qsync.lowprec.quant.Int8Quantizer} (scale {@code amax/127} computed
 * on the device, truncate/nearest/stochastic codes with {@link io.qsync.lowprec.CounterRng}).
 * All methods enqueue on the given stream and return at once.
 */
public final class QuantKernels implements AutoCloseable {
    private static final int BLOCK = 256;
    private final KernelModule module;
    private final int maxBlocks;

    /** Compiles the kernels for {@code device}. */
    public QuantKernels(CudaDevice device) {
        module = new KernelModule("quant_kernels.cu", source(), device.facts());
        maxBlocks = device.facts().smCount() * 16;
    }

    /** @return the CUDA source of the kernels */
    public static String source() {
        return KernelModule.resourceText("quant_kernels.cu");
    }

    private long grid(long work) {
        return Math.max(1, Math.min(maxBlocks, (work + BLOCK - 1) / BLOCK));
    }

    /** {@code amaxBits[0] = bits of max|x|} over {@code n} floats (the buffer is zeroed first). */
    public void amax(DeviceBuffer x, long n, DeviceBuffer amaxBits, CudaStream s) {
        amaxBits.fillAsync(0, s);
        module.launch("amax_f32", grid(n / 4 + 1), BLOCK, 0, s, x, n, amaxBits);
    }

    static int mode(IntRounding r) {
        return r == IntRounding.TRUNCATE ? 0 : r == IntRounding.NEAREST ? 1 : 2;
    }

    /**
     * Per-tensor INT8 quantization with the scale from a previous {@link #amax} (on the device).
     *
     * @param scaleOut one float, receives {@code scaleFor(amax)}
     */
    public void quantizeInt8(
            DeviceBuffer x,
            long n,
            DeviceBuffer amaxBits,
            DeviceBuffer codes,
            DeviceBuffer scaleOut,
            IntRounding rounding,
            long seed,
            long stream,
            CudaStream s) {
        module.launch(
                "quant_i8_tensor",
                grid(n / 4 + 1),
                BLOCK,
                0,
                s,
                x,
                codes,
                n,
                amaxBits,
                scaleOut,
                mode(rounding),
                seed,
                stream);
    }

    /** {@link #amax} then {@link #quantizeInt8}: two passes over x, no host synchronisation. */
    public void amaxQuantizeInt8(
            DeviceBuffer x,
            long n,
            DeviceBuffer amaxBits,
            DeviceBuffer codes,
            DeviceBuffer scaleOut,
            IntRounding rounding,
            long seed,
            long stream,
            CudaStream s) {
        amax(x, n, amaxBits, s);
        quantizeInt8(x, n, amaxBits, codes, scaleOut, rounding, seed, stream, s);
    }

    /**
     * Per-tensor INT8 quantization with a delayed scale, this call's amax fused into the same pass (kernel
     * {@code quant_i8_delayed}; use {@link DelayedInt8Scaler}, which manages the ring).
     *
     * @param hist      ring of {@code slots = H + 2} amax words; slot {@code wslot} must be 0 on entry
     * @param extraAmax null, or one amax word included in the scale's max (the first call's own amax)
     * @param satCount  one u64, incremented by the number of saturated elements
     */
    public void quantizeInt8Delayed(
            DeviceBuffer x,
            long n,
            DeviceBuffer hist,
            int slots,
            int wslot,
            DeviceBuffer extraAmax,
            DeviceBuffer codes,
            DeviceBuffer scaleOut,
            DeviceBuffer satCount,
            IntRounding rounding,
            long seed,
            long stream,
            CudaStream s) {
        module.launch(
                "quant_i8_delayed",
                grid(n / 4 + 1),
                BLOCK,
                0,
                s,
                x,
                codes,
                n,
                hist,
                slots,
                wslot,
                extraAmax == null ? KernelModule.NULL : extraAmax,
                scaleOut,
                satCount,
                mode(rounding),
                seed,
                stream);
    }

    /** Per-row INT8 quantization of a row-major [rows, cols] matrix (per output channel of a [N, K] weight), fused amax. */
    public void quantizeInt8Rows(
            DeviceBuffer x,
            int rows,
            long cols,
            DeviceBuffer codes,
            DeviceBuffer scales,
            IntRounding rounding,
            long seed,
            long stream,
            CudaStream s) {
        module.launch("quant_i8_rows", rows, BLOCK, 0, s, x, codes, rows, cols, scales, mode(rounding), seed, stream);
    }

    /**
     * INT32 GEMM accumulators to FP32: {@code out = (float) acc * (sx * sw[col or 0]) + bias[col]}.
     *
     * @param bias null for none
     */
    public void dequantizeInt32(
            DeviceBuffer acc,
            long rows,
            int cols,
            DeviceBuffer sx,
            DeviceBuffer sw,
            boolean perChannel,
            DeviceBuffer bias,
            DeviceBuffer out,
            CudaStream s) {
        module.launch(
                "dequant_i32",
                grid(rows * cols),
                BLOCK,
                0,
                s,
                acc,
                out,
                rows,
                cols,
                sx,
                sw,
                perChannel ? 1 : 0,
                bias == null ? KernelModule.NULL : bias);
    }

    /**
     * INT8 codes to FP32 or FP16 bits ({@code code * scale[(i / inner) % channels]}).
     *
     * @param toFp16 write FP16 bits (the INT8 layer's backward operands) instead of FP32
     */
    public void dequantizeInt8(
            DeviceBuffer codes,
            long n,
            long inner,
            int channels,
            DeviceBuffer scales,
            boolean toFp16,
            DeviceBuffer out,
            CudaStream s) {
        module.launch(
                "dequant_i8", grid(n / 4 + 1), BLOCK, 0, s, codes, out, n, inner, channels, scales, toFp16 ? 1 : 0);
    }

    /**
     * Per-tensor INT8 codes to FP32 holding {@code fp16(code * scale[0])}: an INT8 layer's backward operands (FP16, as
     * {@link #dequantizeInt8} with {@code toFp16}) for TF32 tensor cores, which multiply FP16 values exactly.
     */
    public void dequantizeInt8ToFp16Values(
            DeviceBuffer codes, long n, DeviceBuffer scale, DeviceBuffer out, CudaStream s) {
        module.launch("dequant_i8", grid(n / 4 + 1), BLOCK, 0, s, codes, out, n, 1L, 1, scale, 2);
    }

    /**
     * A convolution's INT32 GEMM accumulators {@code [c, batch*plane]} (weights times columns) to its NCHW FP32 output
     * {@code [batch, c, plane]}: {@code (float) acc * (sw * sx)}, rounded as {@link #dequantizeInt32}.
     *
     * @param sw the weights' scale (the GEMM's X role)
     * @param sx the input's scale (the columns')
     */
    public void dequantizeInt32ToNchw(
            DeviceBuffer acc,
            int batch,
            int c,
            long plane,
            DeviceBuffer sw,
            DeviceBuffer sx,
            DeviceBuffer out,
            CudaStream s) {
        module.launch(
                "dequant_i32_nchw", grid((long) batch * c * plane), BLOCK, 0, s, acc, out, batch, c, plane, sw, sx);
    }

    /**
     * FP32 to {@code p} storage: TF32 (4 bytes), FP16/BF16 (2 bytes), FP8 (1 byte, unscaled).
     */
    public void cast(DeviceBuffer x, long n, Precision p, DeviceBuffer out, CudaStream s) {
        switch (p) {
            case TF32 -> module.launch("cast_f32_tf32", grid(n / 4 + 1), BLOCK, 0, s, x, out, n);
            case FP16, BF16 -> module.launch(
                    "cast_f32_16", grid(n / 4 + 1), BLOCK, 0, s, x, out, n, p == Precision.FP16 ? 0 : 1);
            case FP8_E4M3, FP8_E5M2 -> quantizeFp8(x, n, p, null, null, out, s);
            default -> throw new IllegalArgumentException("no cast to " + p);
        }
    }

    /**
     * FP32 to FP32 holding the nearest value of {@code p} (TF32, FP16 or BF16; round to nearest even), the operands of
     * a layer of that precision computed on TF32 tensor cores: all three fit TF32 exactly.
     */
    public void round(DeviceBuffer x, long n, Precision p, DeviceBuffer out, CudaStream s) {
        switch (p) {
            case TF32 -> cast(x, n, p, out, s);
            case FP16, BF16 -> module.launch(
                    "round_f32_16", grid(n / 4 + 1), BLOCK, 0, s, x, out, n, p == Precision.FP16 ? 0 : 1);
            default -> throw new IllegalArgumentException("no rounding to " + p + " in FP32 storage");
        }
    }

    /** FP16/BF16 bits to FP32 (exact). */
    public void widen16(DeviceBuffer x, long n, Precision p, DeviceBuffer out, CudaStream s) {
        module.launch("cast_16_f32", grid(n / 4 + 1), BLOCK, 0, s, x, out, n, p == Precision.FP16 ? 0 : 1);
    }

    /**
     * {@link #cast} to FP16 or BF16 bits from NCHW to NHWC: {@code images} FP32 arrays {@code [channels][plane]}
     * become {@code [plane][channels]} (a filter {@code [K][C][kh][kw]}: {@code images = K}, {@code plane = kh*kw}).
     */
    public void castToNhwc(
            DeviceBuffer x, int images, int channels, int plane, Precision p, DeviceBuffer out, CudaStream s) {
        transpose("cast_f32_16_t", x, images, channels, plane, p, out, s);
    }

    /** {@link #widen16} from NHWC back to NCHW: the inverse of {@link #castToNhwc}. */
    public void widenToNchw(
            DeviceBuffer x, int images, int channels, int plane, Precision p, DeviceBuffer out, CudaStream s) {
        transpose("cast_16_f32_t", x, images, plane, channels, p, out, s);
    }

    /** Per image, {@code [rows][cols]} into {@code [cols][rows]} in 32x32 tiles, cast by {@code kernel}. */
    private void transpose(
            String kernel,
            DeviceBuffer x,
            int images,
            int rows,
            int cols,
            Precision p,
            DeviceBuffer out,
            CudaStream s) {
        if (p != Precision.FP16 && p != Precision.BF16) {
            throw new IllegalArgumentException("NHWC casts are FP16 or BF16, not " + p);
        }
        int tilesCols = (cols + 31) / 32;
        long tiles = (long) tilesCols * ((rows + 31) / 32);
        module.launch3(kernel, tiles, images, BLOCK, 0, s, x, out, rows, cols, tilesCols, p == Precision.FP16 ? 0 : 1);
    }

    /**
     * FP32 to FP8 scaled by {@code amax / maxFinite} (Transformer Engine's current scaling).
     *
     * @param amaxBits from {@link #amax}, or null for scale 1
     * @param scaleOut receives the scale, or null
     */
    public void quantizeFp8(
            DeviceBuffer x,
            long n,
            Precision p,
            DeviceBuffer amaxBits,
            DeviceBuffer scaleOut,
            DeviceBuffer out,
            CudaStream s) {
        module.launch(
                "quant_fp8",
                grid(n / 4 + 1),
                BLOCK,
                0,
                s,
                x,
                out,
                n,
                fp8(p),
                amaxBits == null ? KernelModule.NULL : amaxBits,
                scaleOut == null ? KernelModule.NULL : scaleOut);
    }

    /** FP8 bits to FP32, times {@code scale[0]} when scale is not null. */
    public void dequantizeFp8(DeviceBuffer x, long n, Precision p, DeviceBuffer scale, DeviceBuffer out, CudaStream s) {
        module.launch(
                "dequant_fp8", grid(n), BLOCK, 0, s, x, out, n, fp8(p), scale == null ? KernelModule.NULL : scale);
    }

    private static int fp8(Precision p) {
        if (p == Precision.FP8_E4M3) {
            return 0;
        }
        if (p == Precision.FP8_E5M2) {
            return 1;
        }
        throw new IllegalArgumentException("not an FP8 format: " + p);
    }

    /** Transposes a row-major [rows, cols] matrix of bytes (FP8/INT8 operands that must be K-major). */
    public void transposeBytes(DeviceBuffer in, int rows, int cols, DeviceBuffer out, CudaStream s) {
        module.launch3("transpose_b8", (cols + 31) / 32, (rows + 31) / 32, BLOCK, 0, s, in, out, rows, cols);
    }

    /**
     * im2col of an NCHW tensor into row-major {@code [B*Ho*Wo, kPad]} (FP32 or INT8 codes).
     *
     * @param g    geometry
     * @param int8 true for 1-byte elements (quantize first, then im2col: a quarter of the bytes)
     */
    public void im2col(DeviceBuffer x, ConvShape g, int kPad, boolean int8, DeviceBuffer col, CudaStream s) {
        long n = (long) g.batch() * g.outH() * g.outW() * kPad;
        // INT8 codes 16 columns per thread (one 16-byte store) where the rows and the buffer allow it
        boolean x16 = int8 && kPad % 16 == 0 && col.pointer().address() % 16 == 0;
        module.launch(
                x16 ? "im2col_i8_x16" : int8 ? "im2col_i8" : "im2col_f32",
                grid(x16 ? n / 16 : n),
                BLOCK,
                0,
                s,
                x,
                col,
                g.batch(),
                g.inC(),
                g.inH(),
                g.inW(),
                g.kH(),
                g.kW(),
                g.strideH(),
                g.strideW(),
                g.padH(),
                g.padW(),
                g.outH(),
                g.outW(),
                kPad);
    }

    /** Fills {@code n} floats with {@code scale·U(-1,1)} from the counter RNG (benchmark inputs). */
    public void fillUniform(DeviceBuffer x, long n, long seed, float scale, CudaStream s) {
        module.launch("fill_uniform_f32", grid(n), BLOCK, 0, s, x, n, seed, scale);
    }

    /** {@code out[r, c] += bias[c]} in FP32. */
    public void addBias(DeviceBuffer out, long rows, int cols, DeviceBuffer bias, CudaStream s) {
        module.launch("add_bias_f32", grid(rows * cols), BLOCK, 0, s, out, rows, cols, bias);
    }

    @Override
    public void close() {
        module.close();
    }
}
