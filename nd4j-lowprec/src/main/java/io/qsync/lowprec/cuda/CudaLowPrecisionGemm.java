package io.qsync.lowprec.cuda;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.Granularity;
import io.qsync.lowprec.quant.Int8Quantizer;

/**
 * The GPU counterpart of {@link io.qsync.lowprec.ops.LowPrecisionGemm}: {@code Y = X·Wᵀ + b} with
 * {@code X [M,K]}, {@code W [N,K]} (output channels as rows, PyTorch's and cuBLASLt's K-major layout; the CPU
 * class holds {@code W} as {@code [K,N]}) and the same per-precision semantics:
 * <ul>
 *   <li>FP32: FP32 GEMM. TF32/BF16/FP16: X, W (and dY in backward) rounded to the format by the cast kernel,
 *       FP32 accumulate and output.</li>
 *   <li>INT8: X per tensor, W per tensor or per row (output channel), codes multiplied exactly (INT32),
 *       dequantized once by {@code sx·sw} plus bias in FP32. Backward is FP16 (saved codes dequantized to FP16,
 *       dY rounded to FP16).</li>
 *   <li>FP8_E4M3: X, W amax-scaled E4M3; backward dY amax-scaled E5M2 against the saved E4M3 operands,
 *       transposed on the device to the K-major layout FP8 GEMMs need.</li>
 * </ul>
 * Device buffers are FP32 unless noted; every call enqueues on the stream.
 */
public final class CudaLowPrecisionGemm implements AutoCloseable {
    private final Precision precision;
    private final Int8Quantizer int8;
    private final DeviceAllocator alloc;
    private final LtMatmul lt;
    private final QuantKernels qk;
    /** INT8 only, opt-in: delayed scaling of X (null = QSync's dynamic per-forward scale, the default). */
    private final DelayedInt8Scaler delayedX;

    private final java.util.Map<String, DeviceBuffer> temps = new java.util.HashMap<>();
    private final java.util.List<DeviceBuffer> retired = new java.util.ArrayList<>();
    private final java.util.List<Saved> owners = new java.util.ArrayList<>();

    /**
     * @param precision layer precision (FP8_E5M2 forward is not offered by cuBLASLt: E5M2×E5M2 is unsupported)
     * @param int8      INT8 quantizer settings
     * @param alloc     allocator for saved operands and temporaries
     * @param lt        cuBLASLt wrapper
     * @param qk        kernels
     */
    public CudaLowPrecisionGemm(
            Precision precision, Int8Quantizer int8, DeviceAllocator alloc, LtMatmul lt, QuantKernels qk) {
        this(precision, int8, alloc, lt, qk, 0);
    }

    /**
     * @param delayedScalingHistory 0: QSync's dynamic activation scale (default); H ≥ 1 (INT8 only): delayed scaling
     *                              of X with an amax history of H forwards, bit-identical to
     *                              {@code new LowPrecisionGemm(INT8, int8, H)} on the CPU
     */
    public CudaLowPrecisionGemm(
            Precision precision,
            Int8Quantizer int8,
            DeviceAllocator alloc,
            LtMatmul lt,
            QuantKernels qk,
            int delayedScalingHistory) {
        if (precision == Precision.FP8_E5M2) {
            throw new IllegalArgumentException("FP8_E5M2 forward: cuBLASLt has no E5M2 x E5M2 GEMM; use FP8_E4M3");
        }
        this.precision = precision;
        this.int8 = int8;
        this.alloc = alloc;
        this.lt = lt;
        this.qk = qk;
        this.delayedX = precision == Precision.INT8 && delayedScalingHistory > 0
                ? new DelayedInt8Scaler(alloc, qk, delayedScalingHistory)
                : null;
    }

    /** @return the delayed-scaling state of X, or null in QSync's dynamic mode */
    public DelayedInt8Scaler delayedScaling() {
        return delayedX;
    }

    /**
     * Operands saved for backward (low-precision copies of X and W and their scales). The GEMM frees every one it made
     * when it closes; closing one earlier frees its buffers then.
     */
    public final class Saved implements AutoCloseable {
        /** Shape. */
        public final long m;
        /** Shape. */
        public final long n;
        /** Shape. */
        public final long k;
        /** X in the layer's format ([M,K]). */
        public final DeviceBuffer x;
        /** W in the layer's format ([N,K]). */
        public final DeviceBuffer w;
        /** INT8/FP8: scale of X (one float); null otherwise. */
        public final DeviceBuffer sx;
        /** INT8/FP8: scale(s) of W; null otherwise. */
        public final DeviceBuffer sw;

        private final DeviceBuffer amax;
        private final boolean owns;

        Saved(long m, long n, long k) {
            this.m = m;
            this.n = n;
            this.k = k;
            x = alloc.allocate("saved X", m * k * elementBytes());
            w = alloc.allocate("saved W", n * k * elementBytes());
            boolean scaled = precision == Precision.INT8 || precision == Precision.FP8_E4M3;
            sx = scaled ? alloc.allocate("sx", 4) : null;
            sw = scaled ? alloc.allocate("sw", 4 * n) : null;
            amax = scaled ? alloc.allocate("amax", 4) : null;
            owns = true;
        }

        private Saved(Saved of, long m, long n, long k) {
            this.m = m;
            this.n = n;
            this.k = k;
            x = of.x;
            w = of.w;
            sx = of.sx;
            sw = of.sw;
            amax = of.amax;
            owns = false;
        }

        /** Whether operands of shape {@code [m,k] x [n,k]} fit this one's buffers. */
        boolean fits(long m, long n, long k) {
            return x.bytes() >= m * k * elementBytes()
                    && w.bytes() >= n * k * elementBytes()
                    && (sw == null || sw.bytes() >= 4 * n);
        }

        /**
         * These buffers viewed with another shape that {@link #fits}: a pass of fewer rows (an epoch's last batch,
         * inference) reuses them, so a recorded pass that holds their addresses stays valid.
         */
        Saved reshaped(long m, long n, long k) {
            return m == this.m && n == this.n && k == this.k ? this : new Saved(this, m, n, k);
        }

        /** Frees the buffers (a reshaped view frees nothing: its buffers belong to the one it was made from). */
        @Override
        public void close() {
            if (!owns) {
                return;
            }
            for (DeviceBuffer b : new DeviceBuffer[] {x, w, sx, sw, amax}) {
                if (b != null) {
                    b.close();
                }
            }
        }
    }

    private int elementBytes() {
        return precision == Precision.INT8 || precision == Precision.FP8_E4M3 ? 1 : precision.storageBytes();
    }

    /** @return the layer's precision */
    public Precision precision() {
        return precision;
    }

    /**
     * Rounds or quantizes X {@code [M,K]} and W {@code [N,K]} (FP32) into a new {@link Saved}.
     *
     * @param stream stochastic-rounding stream id (X uses {@code 2·stream}, W {@code 2·stream+1}, as on the CPU)
     */
    public Saved prepare(DeviceBuffer x, DeviceBuffer w, long m, long n, long k, long stream, CudaStream s) {
        return prepare(null, x, w, m, n, k, stream, s);
    }

    /**
     * As {@link #prepare(DeviceBuffer, DeviceBuffer, long, long, long, long, CudaStream)}, into {@code reuse} when it
     * has the same shape (a training step's buffers stay allocated from step to step).
     *
     * @param reuse saved operands of an earlier pass, or null
     */
    public Saved prepare(
            Saved reuse, DeviceBuffer x, DeviceBuffer w, long m, long n, long k, long stream, CudaStream s) {
        Saved sv;
        if (reuse != null && reuse.fits(m, n, k)) {
            sv = reuse.reshaped(m, n, k);
        } else {
            sv = new Saved(m, n, k);
            owners.add(sv); // a recorded pass may hold the addresses of an outgrown one: all are freed with this GEMM
        }
        switch (precision) {
            case FP32 -> {
                sv.x.copyFrom(x, 4 * m * k, s);
                sv.w.copyFrom(w, 4 * n * k, s);
            }
            case TF32, FP16, BF16 -> {
                qk.cast(x, m * k, precision, sv.x, s);
                qk.cast(w, n * k, precision, sv.w, s);
            }
            case INT8 -> {
                if (delayedX != null) {
                    delayedX.quantize(x, m * k, sv.x, sv.sx, int8.rounding(), int8.seed(), 2 * stream, s);
                } else {
                    qk.amaxQuantizeInt8(x, m * k, sv.amax, sv.x, sv.sx, int8.rounding(), int8.seed(), 2 * stream, s);
                }
                if (int8.granularity() == Granularity.PER_CHANNEL) {
                    qk.quantizeInt8Rows(w, (int) n, k, sv.w, sv.sw, int8.rounding(), int8.seed(), 2 * stream + 1, s);
                } else {
                    qk.amaxQuantizeInt8(
                            w, n * k, sv.amax, sv.w, sv.sw, int8.rounding(), int8.seed(), 2 * stream + 1, s);
                }
            }
            case FP8_E4M3 -> {
                qk.amax(x, m * k, sv.amax, s);
                qk.quantizeFp8(x, m * k, precision, sv.amax, sv.sx, sv.x, s);
                qk.amax(w, n * k, sv.amax, s);
                qk.quantizeFp8(w, n * k, precision, sv.amax, sv.sw, sv.w, s);
            }
            default -> throw new IllegalStateException(precision.toString());
        }
        return sv;
    }

    private GemmType fwdType() {
        return switch (precision) {
            case FP32 -> GemmType.FP32;
            case TF32 -> GemmType.TF32;
            case FP16 -> GemmType.FP16;
            case BF16 -> GemmType.BF16;
            case INT8 -> GemmType.INT8;
            default -> GemmType.FP8_E4M3;
        };
    }

    /**
     * {@code out [M,N] = X·Wᵀ + b} (FP32).
     *
     * @param bias {@code [N]} FP32 or null
     * @param acc  INT8 only: {@code [M,N]} INT32 accumulator scratch; null otherwise
     */
    public void forward(Saved sv, DeviceBuffer bias, DeviceBuffer out, DeviceBuffer acc, CudaStream s) {
        if (precision == Precision.INT8) {
            lt.matmul(GemmType.INT8, false, true, sv.m, sv.n, sv.k, sv.x, sv.w, acc, null, null, s);
            qk.dequantizeInt32(
                    acc, sv.m, (int) sv.n, sv.sx, sv.sw, int8.granularity() == Granularity.PER_CHANNEL, bias, out, s);
            return;
        }
        lt.matmul(fwdType(), false, true, sv.m, sv.n, sv.k, sv.x, sv.w, out, sv.sx, sv.sw, s);
        if (bias != null) {
            qk.addBias(out, sv.m, (int) sv.n, bias, s);
        }
    }

    /**
     * Backward GEMMs: {@code dX [M,K] = dY·W} and {@code dW [N,K] = dYᵀ·X} (FP32 outputs), in the layer's backward
     * precision.
     *
     * @param dy {@code [M,N]} FP32
     */
    public void backward(Saved sv, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dw, CudaStream s) {
        long m = sv.m, n = sv.n, k = sv.k;
        switch (precision) {
            case FP32 -> {
                lt.matmul(GemmType.FP32, false, false, m, k, n, dy, sv.w, dx, null, null, s);
                lt.matmul(GemmType.FP32, true, false, n, k, m, dy, sv.x, dw, null, null, s);
            }
            case TF32, FP16, BF16 -> {
                DeviceBuffer dyl = temp("dY low", m * n * precision.storageBytes());
                qk.cast(dy, m * n, precision, dyl, s);
                GemmType t = fwdType();
                lt.matmul(t, false, false, m, k, n, dyl, sv.w, dx, null, null, s);
                lt.matmul(t, true, false, n, k, m, dyl, sv.x, dw, null, null, s);
            }
            case INT8 -> {
                DeviceBuffer dyl = temp("dY fp16", m * n * 2);
                DeviceBuffer xh = temp("X fp16", m * k * 2);
                DeviceBuffer wh = temp("W fp16", n * k * 2);
                qk.cast(dy, m * n, Precision.FP16, dyl, s);
                qk.dequantizeInt8(sv.x, m * k, 1, 1, sv.sx, true, xh, s);
                boolean pc = int8.granularity() == Granularity.PER_CHANNEL;
                qk.dequantizeInt8(sv.w, n * k, pc ? k : 1, pc ? (int) n : 1, sv.sw, true, wh, s);
                lt.matmul(GemmType.FP16, false, false, m, k, n, dyl, wh, dx, null, null, s);
                lt.matmul(GemmType.FP16, true, false, n, k, m, dyl, xh, dw, null, null, s);
            }
            default -> {
                DeviceBuffer dy8 = temp("dY e5m2", m * n);
                DeviceBuffer dyT = temp("dY e5m2 T", m * n);
                DeviceBuffer wT = temp("W e4m3 T", n * k);
                DeviceBuffer xT = temp("X e4m3 T", m * k);
                DeviceBuffer am = temp("amax dY", 4);
                DeviceBuffer sdy = temp("scale dY", 4);
                qk.amax(dy, m * n, am, s);
                qk.quantizeFp8(dy, m * n, Precision.FP8_E5M2, am, sdy, dy8, s);
                qk.transposeBytes(sv.w, (int) n, (int) k, wT, s);
                qk.transposeBytes(dy8, (int) m, (int) n, dyT, s);
                qk.transposeBytes(sv.x, (int) m, (int) k, xT, s);
                lt.matmul(GemmType.FP8_E5M2_E4M3, false, true, m, k, n, dy8, wT, dx, sdy, sv.sw, s);
                lt.matmul(GemmType.FP8_E5M2_E4M3, false, true, n, k, m, dyT, xT, dw, sdy, sv.sx, s);
            }
        }
    }

    /**
     * A backward temporary of at least {@code bytes}, kept (and grown) from call to call: no allocation, free or
     * stream synchronisation inside a step, so that a step can be captured in a CUDA graph.
     */
    private DeviceBuffer temp(String role, long bytes) {
        DeviceBuffer b = temps.get(role);
        if (b == null || b.bytes() < bytes) {
            if (b != null) {
                retired.add(b); // a recorded pass may hold its address: freed with this GEMM
            }
            b = alloc.allocate(role, bytes);
            temps.put(role, b);
        }
        return b;
    }

    /** Frees the backward temporaries and the delayed-scaling state (if any). */
    @Override
    public void close() {
        temps.values().forEach(DeviceBuffer::close);
        temps.clear();
        retired.forEach(DeviceBuffer::close);
        retired.clear();
        owners.forEach(Saved::close); // closing one the caller closed already does nothing
        owners.clear();
        if (delayedX != null) {
            delayedX.close();
        }
    }
}
