package io.qsync.lowprec.cuda;

import io.qsync.lowprec.quant.Granularity;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.IntRounding;
import io.qsync.lowprec.train.ConvGeom;
import io.qsync.lowprec.train.Convolution;
import io.qsync.lowprec.train.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * An INT8 convolution layer with QSync's semantics and the low-precision GEMM's numerics, without FP32 columns.
 *
 * <p>Forward: the input is quantized once per tensor (its amax is the columns' amax, because every input pixel lies in
 * some window: {@link #coversInput}), im2col gathers the 1-byte codes into K-major columns, one INT8 GEMM multiplies
 * the weights' codes by them (INT32 sums, exact) and one kernel dequantizes into the NCHW output. That is bit for bit
 * what im2col + {@link CudaLowPrecisionGemm} computes (quantizing then gathering equals gathering then quantizing for
 * a per-tensor, value-only rounding), at a quarter of the columns' bytes and with no transposes.
 *
 * <p>Backward (FP16, as QSync's INT8 layers): the saved codes are dequantized to FP16 values in FP32 storage and
 * cuDNN's backward data and backward filter run on them ({@link CudnnConvolution} at FP16: dY rounded to FP16, TF32
 * tensor cores, exact products, FP32 sums), instead of two FP16 GEMMs over the columns and col2im.
 *
 * <p>Offered by {@link CudnnConvolutions#openInt8} for per-tensor, non-stochastic quantizers, symmetric padding and
 * geometries whose windows cover the input; everything else keeps im2col + the GEMM. Every buffer is allocated here;
 * the calls allocate nothing and never synchronise, so a pass can be recorded.
 */
final class CudnnInt8Convolution implements Convolution {
    /** The forward's kernels in launch order ({@link #forwardKernelTimes} times each); the K padding may be a no-op. */
    static final List<String> FORWARD_KERNELS = List.of(
            "weights amax+quantize",
            "weights K padding",
            "input amax+quantize",
            "codes im2col",
            "INT8 GEMM",
            "INT32 to NCHW dequantize");

    private final CudnnConvolution backward;
    private final QuantKernels qk;
    private final LtMatmul lt;
    private final CudaStream s;
    private final ConvGeom g;
    private final int batch;
    private final int nOut;
    private final int k;
    private final int kp;
    private final IntRounding rounding;
    private final ConvShape inputShape;
    private final ConvShape weightRows;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private final DeviceBuffer xCodes;
    private final DeviceBuffer wCodes;
    private final DeviceBuffer wCodesPadded;
    private final DeviceBuffer cols;
    private final DeviceBuffer acc;
    private final DeviceBuffer amax;
    private final DeviceBuffer xScale;
    private final DeviceBuffer wScale;
    private boolean forwarded;

    /**
     * @param backward the FP16 cuDNN convolution of the same geometry (its rounded-operand buffers receive the
     *                 dequantized codes); closed with this one
     * @throws IllegalArgumentException when {@link #unsupported} names a reason
     */
    CudnnInt8Convolution(
            CudnnConvolution backward,
            DeviceAllocator alloc,
            QuantKernels qk,
            LtMatmul lt,
            CudaStream s,
            ConvGeom g,
            int batch,
            int nOut,
            Int8Quantizer int8) {
        String why = unsupported(g, int8);
        if (why != null) {
            throw new IllegalArgumentException(why);
        }
        this.backward = backward;
        this.qk = qk;
        this.lt = lt;
        this.s = s;
        this.g = g;
        this.batch = batch;
        this.nOut = nOut;
        this.k = g.patch();
        int align = CudaLowPrecisionLinear.K_ALIGN;
        this.kp = (k + align - 1) / align * align;
        this.rounding = int8.rounding();
        this.inputShape = new ConvShape(
                batch, g.c(), g.h(), g.w(), nOut, g.kh(), g.kw(), g.sh(), g.sw(), g.padTop(), g.padLeft());
        // a 1x1 "convolution" over [nOut, K, 1, 1] is the row padding of the weights' codes to
        // CudaLowPrecisionLinear.K_ALIGN
        this.weightRows = new ConvShape(nOut, k, 1, 1, 1, 1, 1, 1, 1, 0, 0);
        try {
            xCodes = own(alloc.allocate("INT8 conv x codes", (long) batch * g.c() * g.inPlane()));
            wCodes = own(alloc.allocate("INT8 conv w codes", (long) nOut * k));
            wCodesPadded = kp == k ? wCodes : own(alloc.allocate("INT8 conv w codes padded", (long) nOut * kp));
            cols = own(alloc.allocate("INT8 conv columns", (long) batch * g.outPlane() * kp));
            acc = own(alloc.allocate("INT8 conv INT32 sums", 4L * nOut * batch * g.outPlane()));
            amax = own(alloc.allocate("INT8 conv amax", 4));
            xScale = own(alloc.allocate("INT8 conv x scale", 4));
            wScale = own(alloc.allocate("INT8 conv w scale", 4));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private DeviceBuffer own(DeviceBuffer b) {
        owned.add(b);
        return b;
    }

    /**
     * @return why this path cannot compute an INT8 layer of geometry {@code g} with quantizer {@code int8} exactly as
     *         im2col + the INT8 GEMM does, or null when it can
     */
    static String unsupported(ConvGeom g, Int8Quantizer int8) {
        if (int8.granularity() != Granularity.PER_TENSOR) {
            return "per-channel INT8 (the columns' scale is per output position)";
        }
        if (int8.rounding() == IntRounding.STOCHASTIC) {
            return "stochastic INT8 rounding (its random stream follows the columns' element order)";
        }
        if (!coversInput(g)) {
            return "windows leave input pixels out (the input's amax could exceed the columns')";
        }
        return CudnnConvolution.unsupported(g);
    }

    /** Whether every input pixel lies in at least one window (no gap between windows, the last one reaching the edge). */
    static boolean coversInput(ConvGeom g) {
        return covers(g.h(), g.kh(), g.sh(), g.padTop(), g.oh()) && covers(g.w(), g.kw(), g.sw(), g.padLeft(), g.ow());
    }

    private static boolean covers(int in, int kernel, int stride, int pad, int out) {
        return (out == 1 || stride <= kernel) && (long) (out - 1) * stride - pad + kernel >= in;
    }

    @Override
    public String describe() {
        return "INT8 codes im2col + INT8 GEMM (K " + k + (kp != k ? " padded to " + kp : "") + "); backward "
                + backward.describe();
    }

    private long xLength() {
        return (long) batch * g.c() * g.inPlane();
    }

    private long yLength() {
        return (long) batch * nOut * g.outPlane();
    }

    @Override
    public void forward(Tensor x, Tensor w, Tensor y) {
        for (Runnable kernel : forwardKernels(x, w, y)) {
            kernel.run();
        }
        forwarded = true;
    }

    /** One launch per entry of {@link #FORWARD_KERNELS}. */
    private Runnable[] forwardKernels(Tensor x, Tensor w, Tensor y) {
        DeviceBuffer xb = CudnnConvolution.buf(x, xLength(), "x");
        DeviceBuffer wb = CudnnConvolution.buf(w, (long) nOut * k, "w");
        DeviceBuffer yb = CudnnConvolution.buf(y, yLength(), "y");
        long columns = (long) batch * g.outPlane();
        // the weights take the GEMM's X role (stream 0), the columns its W role, as in the im2col path; the rounding
        // is deterministic, so the stream ids do not matter
        return new Runnable[] {
            () -> qk.amaxQuantizeInt8(wb, (long) nOut * k, amax, wCodes, wScale, rounding, 0L, 0L, s),
            () -> {
                if (kp != k) {
                    qk.im2col(wCodes, weightRows, kp, true, wCodesPadded, s);
                }
            },
            () -> qk.amaxQuantizeInt8(xb, xLength(), amax, xCodes, xScale, rounding, 0L, 1L, s),
            () -> qk.im2col(xCodes, inputShape, kp, true, cols, s),
            () -> lt.matmul(GemmType.INT8, false, true, nOut, columns, kp, wCodesPadded, cols, acc, null, null, s),
            () -> qk.dequantizeInt32ToNchw(acc, batch, nOut, g.outPlane(), wScale, xScale, yb, s)
        };
    }

    /**
     * For benchmarks: the median milliseconds of each forward kernel ({@link #FORWARD_KERNELS}), each timed alone with
     * events after one whole forward of the same tensors.
     */
    double[] forwardKernelTimes(Tensor x, Tensor w, Tensor y, CudaTimer timer, int warmup, int repeats) {
        forward(x, w, y);
        Runnable[] kernels = forwardKernels(x, w, y);
        double[] ms = new double[kernels.length];
        for (int i = 0; i < kernels.length; i++) {
            ms[i] = timer.median(FORWARD_KERNELS.get(i), warmup, repeats, kernels[i]);
        }
        return ms;
    }

    @Override
    public void backward(Tensor dy, Tensor dx, Tensor dw) {
        if (!forwarded) {
            throw new IllegalStateException("backward before forward");
        }
        DeviceBuffer[] half = backward.halfOperandsForBackward();
        if (half != null) { // -Dqsync.cuda.halfTensors: FP16 bits for the half-size backward data
            qk.dequantizeInt8(xCodes, xLength(), 1, 1, xScale, true, half[0], s);
            qk.dequantizeInt8(wCodes, (long) nOut * k, 1, 1, wScale, true, half[1], s);
        } else {
            DeviceBuffer[] operands = backward.operandsForBackward();
            qk.dequantizeInt8ToFp16Values(xCodes, xLength(), xScale, operands[0], s);
            qk.dequantizeInt8ToFp16Values(wCodes, (long) nOut * k, wScale, operands[1], s);
        }
        backward.backward(dy, dx, dw);
    }

    @Override
    public void close() {
        owned.forEach(DeviceBuffer::close);
        owned.clear();
        backward.close();
    }
}
