package io.qsync.lowprec.cuda;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.train.LowPrecisionLinear;
import io.qsync.lowprec.train.Tensor;

/**
 * {@link LowPrecisionLinear} of {@link CudaTensorOps}: {@link CudaLowPrecisionGemm} (the kernels and cuBLASLt GEMMs
 * checked against the CPU emulation) on the engine's stream. The saved operands are reused from step to step while
 * the shape stays; INT8 and FP8 GEMMs need K to be a multiple of 16, so other K are zero-padded (zeros change
 * neither the scales nor the sums).
 */
final class CudaLowPrecisionLinear implements LowPrecisionLinear {
    /** K of an INT8 or FP8 cuBLASLt GEMM must be a multiple of this (other K are zero-padded). */
    static final int K_ALIGN = 16;

    private final CudaTensorOps ops;
    private final CudaLowPrecisionGemm gemm;
    private final DeviceAllocator alloc;
    private final CudaStream s;
    private final long stream;
    private CudaLowPrecisionGemm.Saved saved;
    private final java.util.List<DeviceBuffer> retired = new java.util.ArrayList<>();
    private DeviceBuffer acc;
    private DeviceBuffer xPad;
    private DeviceBuffer wPad;
    private DeviceBuffer dxScratch;
    private int m;
    private int n;
    private int k;
    private int kp;

    CudaLowPrecisionLinear(
            CudaTensorOps ops,
            Precision p,
            Int8Quantizer int8,
            DeviceAllocator alloc,
            LtMatmul lt,
            QuantKernels qk,
            CudaStream s,
            long stream) {
        this.ops = ops;
        this.gemm = new CudaLowPrecisionGemm(p, int8, alloc, lt, qk);
        this.alloc = alloc;
        this.s = s;
        this.stream = stream;
    }

    @Override
    public Precision precision() {
        return gemm.precision();
    }

    private boolean padded() {
        return kp != k;
    }

    /**
     * {@code b}, or a larger buffer when it is too small. The smaller one is kept until {@link #close}: a pass recorded
     * as a CUDA graph holds the addresses of every buffer it used, and replaying it after a free would write to freed
     * memory (CUDA error 700).
     */
    private DeviceBuffer grow(DeviceBuffer b, String what, long bytes) {
        if (b != null && b.bytes() >= bytes) {
            return b;
        }
        if (b != null) {
            retired.add(b);
        }
        return alloc.allocate(what, bytes);
    }

    /** {@code rows x k} floats of {@code src} into a zero-padded {@code rows x kp} buffer. */
    private CudaTensor pad(Tensor src, int rows, DeviceBuffer dst) {
        CudaTensor t = new CudaTensor(dst, (long) rows * kp);
        ops.fill(t, 0f);
        ops.copyBlocks(src, k, 0, t, kp, 0, rows, k, false);
        return t;
    }

    @Override
    public void forward(Tensor x, Tensor w, Tensor bias, int m, int n, int k, Tensor out) {
        boolean scaled = precision() == Precision.INT8 || precision() == Precision.FP8_E4M3;
        int kp = scaled ? (k + K_ALIGN - 1) / K_ALIGN * K_ALIGN : k;
        this.m = m;
        this.n = n;
        this.k = k;
        this.kp = kp;
        DeviceBuffer xb = CudaTensor.of(x).buffer();
        DeviceBuffer wb = CudaTensor.of(w).buffer();
        if (padded()) {
            xPad = grow(xPad, "X padded", 4L * m * kp);
            wPad = grow(wPad, "W padded", 4L * n * kp);
            xb = pad(x, m, xPad).buffer();
            wb = pad(w, n, wPad).buffer();
        }
        // a pass of other rows reuses the saved operands' buffers where they fit (a view), else takes new ones; the
        // GEMM
        // frees none before it closes, so a recorded pass never points at freed memory
        saved = gemm.prepare(saved, xb, wb, m, n, kp, stream, s);
        if (precision() == Precision.INT8) {
            acc = grow(acc, "INT32 accumulator", 4L * m * n);
        }
        gemm.forward(
                saved,
                bias == null ? null : CudaTensor.of(bias).buffer(),
                CudaTensor.of(out).buffer(),
                acc,
                s);
    }

    @Override
    public void backward(Tensor dy, Tensor dx, Tensor dw) {
        if (saved == null) {
            throw new IllegalStateException("backward before forward");
        }
        if (!padded()) {
            DeviceBuffer dxb = dx != null ? CudaTensor.of(dx).buffer() : null;
            if (dxb == null) {
                dxScratch = grow(dxScratch, "unused dX", 4L * m * k);
                dxb = dxScratch;
            }
            gemm.backward(
                    saved, CudaTensor.of(dy).buffer(), dxb, CudaTensor.of(dw).buffer(), s);
            return;
        }
        // padded: dX and dW come out [., kp]; copy their first k columns
        dxScratch = grow(dxScratch, "dX padded", 4L * m * kp);
        xPad = grow(xPad, "dW padded", 4L * Math.max(m, n) * kp);
        gemm.backward(saved, CudaTensor.of(dy).buffer(), dxScratch, xPad, s);
        ops.copyBlocks(new CudaTensor(xPad, (long) n * kp), kp, 0, dw, k, 0, n, k, false);
        if (dx != null) {
            ops.copyBlocks(new CudaTensor(dxScratch, (long) m * kp), kp, 0, dx, k, 0, m, k, false);
        }
    }

    @Override
    public void close() {
        saved = null; // the GEMM frees the saved operands
        retired.forEach(DeviceBuffer::close);
        retired.clear();
        for (AutoCloseable c : new AutoCloseable[] {acc, xPad, wPad, dxScratch, gemm}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }
}
