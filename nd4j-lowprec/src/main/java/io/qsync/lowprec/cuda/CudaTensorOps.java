package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToDevice;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.train.Act;
import io.qsync.lowprec.train.ConvGeom;
import io.qsync.lowprec.train.LowPrecisionLinear;
import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link TensorOps} on one CUDA device: device-resident tensors, one stream, GEMMs through cuBLASLt (FP32, or TF32
 * when asked), FP32/TF32 convolutions through cuDNN where it loads ({@link CudnnConvolutions}; optional: without it
 * the program runs them as im2col + GEMM), everything else through {@code train_kernels.cu} (the loops of
 * {@link io.qsync.lowprec.train.HostOps}).
 * Host staging buffers are page-locked; copies wait for completion, so a caller may reuse its buffer at once (except
 * {@link #uploadQueued} and {@link #downloadBehind}, which return a mark to wait for).
 */
public final class CudaTensorOps extends CudaKernelOps {
    /** Elements one device tensor may hold (32-bit element counts in the kernels and cuDNN). */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE;
    /** Doubles of scratch for two-stage sums: bias gradients ({@link TrainKernels#sumBias}), small-patch filters. */
    private static final long BIAS_PARTS = 1 << 15;

    private final CudaDevice device;
    private final DeviceAllocator alloc;
    private final CudaStream stream;
    private final TrainKernels k;
    private final LtMatmul lt;
    private final GemmType gemm;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private final List<LowPrecisionLinear> linears = new ArrayList<>();
    private final HostTransfers transfers;
    private final CudnnConvolutions cudnn;
    private final DeviceBuffer biasParts;
    private QuantKernels qk;
    private boolean closed;

    private CudaTensorOps(CudaDevice device, boolean tf32, boolean cudnn) {
        this.device = device;
        long cap = GreenContext.installedMemoryCap();
        long total = device.facts().totalMemBytes();
        this.alloc = new DeviceAllocator(
                "cuda engine on " + device.facts().name()
                        + (cap > 0 ? " (SM slice, memory cap " + cap + " bytes)" : ""),
                cap > 0 ? Math.min(cap, total) : total);
        this.stream = new CudaStream();
        this.transfers = new HostTransfers(stream);
        this.k = new TrainKernels(device, stream);
        this.lt = new LtMatmul(device, alloc);
        this.gemm = tf32 ? GemmType.TF32 : GemmType.FP32;
        this.biasParts = alloc.allocate("partial sums", 8L * BIAS_PARTS);
        owned.add(biasParts);
        SmallPatchKernels small = new SmallPatchKernels(k, biasParts, BIAS_PARTS);
        this.cudnn = new CudnnConvolutions(cudnn, device.facts().hasTf32(), stream, alloc, this::quantKernels, small);
    }

    /**
     * Opens device {@code ordinal} (compiles the kernels, creates the stream and cuBLASLt handle).
     *
     * @param tf32 GEMMs on TF32 tensor cores instead of FP32
     */
    public static CudaTensorOps open(int ordinal, boolean tf32) {
        return open(ordinal, tf32, CudnnConvolutions.DEFAULT_ON);
    }

    /**
     * As {@link #open(int, boolean)}, choosing whether convolutions may use cuDNN ({@link #directConvolution}; the
     * two-argument form follows {@code -Dqsync.cuda.cudnn}, default true): for A/B runs in one process.
     */
    public static CudaTensorOps open(int ordinal, boolean tf32, boolean cudnn) {
        String why = CudaPresence.whyUnavailable();
        if (why != null) {
            throw new IllegalStateException(why);
        }
        return new CudaTensorOps(CudaDevice.open(Math.max(0, ordinal)), tf32, cudnn);
    }

    private static CudaTensor c(Tensor t) {
        return CudaTensor.of(t);
    }

    @Override
    TrainKernels kernels() {
        return k;
    }

    @Override
    public String device() {
        return "cuda:" + device.facts().ordinal() + " " + device.facts().name()
                + (gemm == GemmType.TF32 ? " (TF32)" : "");
    }

    /** Bytes of device memory allocated so far (and at most), for memory reports. */
    public long peakBytes() {
        return alloc.peakBytes();
    }

    /** The stream every operation of these ops runs on (for benchmarks timing them with events). */
    CudaStream stream() {
        return stream;
    }

    @Override
    public Tensor allocate(String what, long length) {
        if (length > MAX_ELEMENTS) {
            // the kernels and cuDNN address one tensor with 32-bit element counts: refuse before any launch could
            // run past it (an illegal address would poison the whole CUDA context)
            throw new DeviceCapacityException("device tensor '" + what + "' needs " + length
                    + " elements, more than the " + MAX_ELEMENTS + " one device tensor may hold");
        }
        DeviceBuffer buf = alloc.allocate(what, Math.max(4, length * 4));
        owned.add(buf);
        CudaTensor t = new CudaTensor(buf, length);
        fill(t, 0f);
        return t;
    }

    @Override
    public Tensor slice(Tensor t, long offset, long length) {
        return CudaTensor.view(c(t), offset, length);
    }

    @Override
    public FloatBuffer hostBuffer(String what, long length) {
        return transfers.hostBuffer(what, length);
    }

    @Override
    public void upload(FloatBuffer src, Tensor dst) {
        transfers.copy(src, c(dst), true);
    }

    @Override
    public Mark uploadQueued(FloatBuffer src, Tensor dst) {
        return transfers.uploadQueued(src, c(dst));
    }

    @Override
    public void download(Tensor src, FloatBuffer dst) {
        transfers.copy(dst, c(src), false);
    }

    /**
     * On a copy stream behind the compute stream. Diagnostic switches, same values: {@code -Dqsync.cuda.copyBehind=stream}
     * copies on the compute stream (no overlap of the copies with compute; still asynchronous to the host and recorded
     * into replayed passes), {@code =false} copies synchronously (passes then cannot be recorded and run eagerly).
     */
    @Override
    public Mark downloadBehind(Tensor src, FloatBuffer dst) {
        return transfers.downloadBehind(c(src), dst);
    }

    @Override
    public void joinDownloads() {
        transfers.behind().join();
    }

    @Override
    public void fill(Tensor t, float value) {
        k.each("fill_f32", t.length(), b(t), t.length(), value);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (src.length() != dst.length()) {
            throw new IllegalArgumentException("copy of " + src.length() + " into " + dst.length());
        }
        Check.cuda(
                "cudaMemcpyAsync(D2D)",
                cudaMemcpyAsync(
                        b(dst).pointer(),
                        b(src).pointer(),
                        src.length() * 4,
                        cudaMemcpyDeviceToDevice,
                        stream.handle()));
    }

    @Override
    public void gemm(
            boolean transA,
            boolean transB,
            int m,
            int n,
            int kk,
            float alpha,
            Tensor a,
            Tensor bm,
            float beta,
            Tensor cm) {
        if (alpha != 1f || beta != 0f) {
            throw new IllegalArgumentException(
                    "the CUDA GEMM supports alpha = 1, beta = 0 only, got " + alpha + ", " + beta);
        }
        lt.matmul(gemm, transA, transB, m, n, kk, b(a), b(bm), b(cm), null, null, stream);
    }

    @Override
    public void addBias(Tensor x, Tensor bias, int outer, int channels, int inner) {
        k.each("add_bias", x.length(), b(x), b(bias), outer, channels, inner);
    }

    @Override
    public void sumBias(Tensor dy, Tensor db, int outer, int channels, int inner) {
        k.sumBias(b(dy), b(db), outer, channels, inner, biasParts, BIAS_PARTS);
    }

    @Override
    public void addBiasActivate(
            Act act, double alpha, Tensor z, Tensor bias, int outer, int channels, int inner, Tensor y) {
        k.each("add_bias_act", z.length(), act.code(), (float) alpha, b(z), b(bias), b(y), outer, channels, inner);
    }

    @Override
    public void activateBackwardSumBias(
            Act act, double alpha, Tensor z, Tensor dy, Tensor dz, Tensor db, int outer, int channels, int inner) {
        int code = act.code();
        if (!k.actBackwardSumBias(
                code, (float) alpha, b(z), b(dy), b(dz), b(db), outer, channels, inner, biasParts, BIAS_PARTS)) {
            activateBackward(act, alpha, z, dy, dz);
            sumBias(dz, db, outer, channels, inner);
        }
    }

    @Override
    public void activate(Act act, double alpha, Tensor z, Tensor y) {
        k.each("act_fwd", z.length(), act.code(), (float) alpha, b(z), b(y), z.length());
    }

    @Override
    public void activateBackward(Act act, double alpha, Tensor z, Tensor dy, Tensor dz) {
        k.each("act_bwd", z.length(), act.code(), (float) alpha, b(z), b(dy), b(dz), z.length());
    }

    @Override
    public void im2col(Tensor x, ConvGeom g, int batch, Tensor cols) {
        k.each(
                "im2col",
                cols.length(),
                TrainKernels.concat(new Object[] {b(x), b(cols), batch}, TrainKernels.geom(g, true)));
    }

    @Override
    public void col2im(Tensor cols, ConvGeom g, int batch, Tensor dx) {
        k.each(
                "col2im",
                dx.length(),
                TrainKernels.concat(new Object[] {b(cols), b(dx), batch}, TrainKernels.geom(g, true)));
    }

    @Override
    public void swapAxes(Tensor src, Tensor dst, int a, int bb, int inner) {
        if (inner == 1) { // a plain transpose: tiled, coalesced both ways
            k.each("transpose_f32", src.length() / 4, b(src), b(dst), a, bb);
            return;
        }
        k.each("swap_axes", src.length(), b(src), b(dst), a, bb, inner);
    }

    @Override
    public void pool(boolean max, Tensor x, ConvGeom g, int planes, Tensor y) {
        k.each(
                "pool_fwd",
                y.length(),
                TrainKernels.concat(new Object[] {max ? 1 : 0, b(x), b(y), planes}, TrainKernels.geom(g, false)));
    }

    @Override
    public void poolBackward(boolean max, Tensor x, Tensor dy, ConvGeom g, int planes, Tensor dx) {
        if (TrainKernels.tiles(g)) {
            k.each(
                    "pool_bwd_tiled",
                    dy.length(),
                    max ? 1 : 0,
                    b(x),
                    b(dy),
                    b(dx),
                    planes,
                    g.h(),
                    g.w(),
                    g.kh(),
                    g.kw(),
                    g.oh(),
                    g.ow());
            return;
        }
        k.each(
                "pool_bwd",
                dx.length(),
                TrainKernels.concat(
                        new Object[] {max ? 1 : 0, b(x), b(dy), b(dx), planes}, TrainKernels.geom(g, false)));
    }

    @Override
    public void globalPool(boolean max, Tensor x, int planes, int size, Tensor y) {
        k.perBlock("global_pool_fwd", planes, max ? 1 : 0, b(x), b(y), size);
    }

    @Override
    public void globalPoolBackward(boolean max, Tensor x, Tensor dy, int planes, int size, Tensor dx) {
        k.perBlock("global_pool_bwd", planes, max ? 1 : 0, b(x), b(dy), b(dx), size);
    }

    /** The quantization kernels (compiled on first use); package-private for benchmarks filling inputs on the card. */
    QuantKernels quantKernels() {
        if (qk == null) {
            qk = new QuantKernels(device);
        }
        return qk;
    }

    @Override
    public LowPrecisionLinear lowPrecisionLinear(Precision precision, Int8Quantizer int8, long rngStream) {
        if (precision == Precision.FP32) {
            throw new IllegalArgumentException("FP32 layers use gemm(...)");
        }
        LowPrecisionLinear l =
                new CudaLowPrecisionLinear(this, precision, int8, alloc, lt, quantKernels(), stream, rngStream);
        linears.add(l);
        return l;
    }

    /**
     * cuDNN for FP32 layers (on FMA units, or with TF32-rounded operands when this engine's GEMMs are TF32) and TF32,
     * FP16 and BF16 layers (operands rounded to the format, on TF32 tensor cores); null for INT8 (see the five-argument
     * form) and FP8, asymmetric padding, or without cuDNN ({@link #directConvolutionState}).
     */
    @Override
    public io.qsync.lowprec.train.Convolution directConvolution(ConvGeom g, int batch, int nOut, Precision p) {
        return cudnn.open(g, batch, nOut, p == Precision.FP32 && gemm == GemmType.TF32 ? Precision.TF32 : p);
    }

    /** INT8 layers: {@link CudnnInt8Convolution} where the quantizer and geometry allow; else as the four-argument form. */
    @Override
    public io.qsync.lowprec.train.Convolution directConvolution(
            ConvGeom g, int batch, int nOut, Precision p, io.qsync.lowprec.quant.Int8Quantizer int8) {
        if (p == Precision.INT8) {
            return cudnn.openInt8(g, batch, nOut, int8, lt);
        }
        return directConvolution(g, batch, nOut, p);
    }

    @Override
    public String directConvolutionState() {
        return cudnn.state();
    }

    @Override
    public Replay capture(Runnable body) {
        return GraphCapture.record(stream, transfers.behind(), alloc, body);
    }

    @Override
    public String whyCannotRun(Precision p) {
        return device.facts().whyCannotRun(p);
    }

    /** The device's memory, or the SM slice's cap when one is installed. */
    @Override
    public long deviceMemoryBytes() {
        return alloc.limitBytes();
    }

    @Override
    public void synchronize() {
        stream.synchronize("training step");
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        stream.synchronize("close");
        transfers.close();
        for (LowPrecisionLinear l : linears) {
            l.close();
        }
        cudnn.close();
        if (qk != null) {
            qk.close();
        }
        lt.close();
        k.close();
        for (DeviceBuffer buf : owned) {
            buf.close();
        }
        alloc.close();
        stream.close();
        device.close();
    }
}
