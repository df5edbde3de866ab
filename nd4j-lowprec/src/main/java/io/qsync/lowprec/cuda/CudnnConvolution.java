package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudnn.*;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.train.ConvGeom;
import io.qsync.lowprec.train.Convolution;
import io.qsync.lowprec.train.Tensor;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.javacpp.Pointer;

/**
 * {@link Convolution} through cuDNN's long-standing (legacy) convolution API, FP32 data in NCHW. FP32 runs on FMA
 * units only ({@code CUDNN_FMA_MATH}: no TF32). TF32, FP16 and BF16 layers follow QSync's rule: x, w (and dY in
 * backward) are rounded to the format (round to nearest even) into FP32 scratch, then multiplied on TF32 tensor cores
 * with FP32 accumulation: all three formats fit TF32 exactly and their products fit FP32, so this is the FP16/BF16
 * GEMM's arithmetic without im2col's columns. With {@code -Dqsync.cuda.halfTensors=true}, FP16 and BF16 layers run
 * forward and backward data on half-size tensors instead ({@link CudnnHalfTensors}: outputs rounded to the format, as
 * QSync's real kernels do). Forward, backward data and backward filter run deterministic algorithms chosen from the shapes and
 * the device alone ({@link CudnnAlgorithms}), so replicas compute bit for bit alike. Buffers (rounded copies, a share of
 * the handle's workspace) are allocated at construction only; the calls allocate nothing and never synchronise.
 */
final class CudnnConvolution implements Convolution {
    private final CudnnHandle h;
    private final QuantKernels qk;
    private final CudaStream s;
    private final ConvGeom g;
    private final int batch;
    private final int nOut;
    /** TF32, FP16 or BF16: the operands are rounded to it and multiplied on TF32 tensor cores; null: FP32 (FMA). */
    private final Precision rounding;
    /** Our kernels in place of cuDNN's forward and backward filter (small patches), or null. */
    private final SmallPatchKernels small;
    /** FP16/BF16 forward and backward data on half-size tensors ({@code -Dqsync.cuda.halfTensors}), or null. */
    private final CudnnHalfTensors half;
    /** Why {@link #half} is null though asked for, or null. */
    private String halfRefused;
    /** Whether the last forward ran on {@link #half} (its backward then does too). */
    private boolean halfSaved;

    private CudnnDescriptors desc;
    private final cudnnConvolutionStruct fwd = new cudnnConvolutionStruct();
    private final cudnnConvolutionStruct data = new cudnnConvolutionStruct();
    private final cudnnConvolutionStruct filter = new cudnnConvolutionStruct();
    private final CudnnAlgorithms.Pick fwdPick;
    private final CudnnAlgorithms.Pick dataPick;
    private final CudnnAlgorithms.Pick filterPick;
    private final long workspace;
    private DeviceBuffer xr;
    private DeviceBuffer wr;
    private DeviceBuffer savedX;
    private DeviceBuffer savedW;

    /**
     * Sets up the descriptors and chooses the algorithms.
     *
     * @param qk kernels for the roundings (unused for FP32)
     * @param small kernels for the forward and backward filter in place of cuDNN's, or null
     * @param halfLayout FP16/BF16 layers: forward and backward data on half-size tensors in this layout
     *     ({@link CudnnHalfTensors}) where cuDNN takes them (not with {@code small}), their outputs then rounded to
     *     the format; {@link CudnnHalfTensors#OFF}: none
     * @throws CudaException when cuDNN refuses the shape or has no deterministic algorithm within the cap
     */
    CudnnConvolution(
            CudnnHandle h,
            DeviceAllocator alloc,
            QuantKernels qk,
            CudaStream s,
            ConvGeom g,
            int batch,
            int nOut,
            Precision precision,
            SmallPatchKernels small,
            int halfLayout) {
        this.h = h;
        this.small = small;
        this.qk = qk;
        this.s = s;
        this.g = g;
        this.batch = batch;
        this.nOut = nOut;
        this.rounding = switch (precision) {
            case FP32 -> null;
            case TF32, FP16, BF16 -> precision;
            default -> throw new IllegalArgumentException("no cuDNN convolution for " + precision + " layers");
        };
        try {
            desc = new CudnnDescriptors(g, batch, nOut, CUDNN_DATA_FLOAT, wantedMath(), fwd, data, filter);
            CudnnAlgorithms algorithms =
                    new CudnnAlgorithms(h.handle(), desc.x, desc.y, desc.w, rounding != null, shape());
            fwdPick = algorithms.forward(fwd);
            dataPick = algorithms.backwardData(data);
            filterPick = algorithms.backwardFilter(filter);
            workspace = Math.max(fwdPick.workspace(), Math.max(dataPick.workspace(), filterPick.workspace()));
            h.reserve("workspace", workspace);
            if (rounding != null) {
                xr = alloc.allocate("cuDNN " + rounding + " x", 4L * batch * g.c() * g.inPlane());
                wr = alloc.allocate("cuDNN " + rounding + " w", 4L * nOut * g.patch());
                h.reserve("rounded dY", 4L * batch * nOut * g.outPlane());
            }
            boolean halfTensors = halfLayout != CudnnHalfTensors.OFF;
            half = halfTensors && small == null && (rounding == Precision.FP16 || rounding == Precision.BF16)
                    ? halfOrNull(alloc, batch, nOut, halfLayout)
                    : null;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private CudnnHalfTensors halfOrNull(DeviceAllocator alloc, int batch, int nOut, int layout) {
        try {
            return new CudnnHalfTensors(h, alloc, qk, s, g, batch, nOut, rounding, layout, shape());
        } catch (CudaException e) {
            halfRefused = e.getMessage();
            return null;
        }
    }

    /**
     * @return why cuDNN's symmetric padding cannot express {@code g} (DL4J's Same mode may pad the bottom or right
     *         edge by one more than the top or left), or null when it can
     */
    static String unsupported(ConvGeom g) {
        int oh = (g.h() + 2 * g.padTop() - g.kh()) / g.sh() + 1;
        int ow = (g.w() + 2 * g.padLeft() - g.kw()) / g.sw() + 1;
        return oh == g.oh() && ow == g.ow()
                ? null
                : "asymmetric padding (output " + g.oh() + "x" + g.ow() + ", symmetric padding gives " + oh + "x" + ow
                        + ")";
    }

    private static void check(String call, int rc) {
        CudnnHandle.check(call, rc);
    }

    private int wantedMath() {
        return rounding != null ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
    }

    private String shape() {
        return batch + "x" + g.c() + "x" + g.h() + "x" + g.w() + " -> " + nOut + " kernel " + g.kh() + "x" + g.kw()
                + " stride " + g.sh() + "x" + g.sw() + " pad " + g.padTop() + "," + g.padLeft();
    }

    private static String math(int m) {
        return m == CUDNN_FMA_MATH ? "FMA" : m == CUDNN_TENSOR_OP_MATH ? "tensor op" : "math " + m;
    }

    @Override
    public String describe() {
        return "cuDNN "
                + (small != null ? "(small patch: our forward and bwd-filter kernels) " : "")
                + (rounding == null ? "FP32" : rounding == Precision.TF32 ? "TF32" : rounding + " operands on TF32")
                + (half != null ? " with " + half.describe() + " forward and backward data" : "")
                + (halfRefused != null ? " (half-size tensors refused: " + halfRefused + ")" : "")
                + " (fwd algo " + fwdPick.algo() + " " + math(fwdPick.math())
                + ", bwd-data algo " + dataPick.algo() + " " + math(dataPick.math()) + ", bwd-filter algo "
                + filterPick.algo() + " " + math(filterPick.math()) + ", workspace " + workspace + " B)";
    }

    /** The device buffer of {@code t}, which must hold {@code length} floats ({@code role} names it in the error). */
    static DeviceBuffer buf(Tensor t, long length, String role) {
        if (t.length() != length) {
            throw new IllegalArgumentException(
                    "cuDNN convolution " + role + ": " + t.length() + " floats, expected " + length);
        }
        return CudaTensor.of(t).buffer();
    }

    private long xLength() {
        return (long) batch * g.c() * g.inPlane();
    }

    private long yLength() {
        return (long) batch * nOut * g.outPlane();
    }

    private long wLength() {
        return (long) nOut * g.patch();
    }

    private DeviceBuffer rounded(DeviceBuffer src, long length, DeviceBuffer dst) {
        qk.round(src, length, rounding, dst, s);
        return dst;
    }

    private Pointer ws() {
        return h.shared("workspace", workspace).pointer();
    }

    @Override
    public void forward(Tensor x, Tensor w, Tensor y) {
        DeviceBuffer xb = buf(x, xLength(), "x");
        DeviceBuffer wb = buf(w, wLength(), "w");
        DeviceBuffer yb = buf(y, yLength(), "y");
        halfSaved = half != null;
        if (halfSaved) {
            half.forward(xb, wb, yb);
            savedX = xr;
            savedW = null;
            return;
        }
        savedX = rounding != null ? rounded(xb, xLength(), xr) : xb;
        savedW = rounding != null ? rounded(wb, wLength(), wr) : wb;
        if (small != null) {
            small.forward(savedX, savedW, yb, batch, nOut, g);
            return;
        }
        check(
                "cudnnConvolutionForward",
                cudnnConvolutionForward(
                        h.handle(),
                        h.one(),
                        desc.x,
                        savedX.pointer(),
                        desc.w,
                        savedW.pointer(),
                        fwd,
                        fwdPick.algo(),
                        ws(),
                        fwdPick.workspace(),
                        h.zero(),
                        desc.y,
                        yb.pointer()));
    }

    /**
     * Makes this convolution's two rounded-operand buffers (x, then w; FP32 storage) the operands of the next
     * {@link #backward}, for a caller that writes them itself: an INT8 layer's saved codes dequantized to FP16 values.
     *
     * @throws IllegalStateException for an FP32 convolution (it keeps no rounded copies)
     */
    DeviceBuffer[] operandsForBackward() {
        if (rounding == null) {
            throw new IllegalStateException("an FP32 cuDNN convolution keeps no rounded operands");
        }
        savedX = xr;
        savedW = wr;
        halfSaved = false;
        return new DeviceBuffer[] {xr, wr};
    }

    /**
     * As {@link #operandsForBackward}, for the half-size path ({@link CudnnHalfTensors}): its x and w buffers (FP16
     * bits) become the operands of the next {@link #backward}, or null when this convolution has no half-size path.
     */
    DeviceBuffer[] halfOperandsForBackward() {
        if (half == null) {
            return null;
        }
        savedX = xr;
        savedW = null;
        halfSaved = true;
        return half.operands();
    }

    @Override
    public void backward(Tensor dy, Tensor dx, Tensor dw) {
        if (savedX == null) {
            throw new IllegalStateException("backward before forward");
        }
        DeviceBuffer d = buf(dy, yLength(), "dy");
        if (rounding != null) {
            d = rounded(d, yLength(), h.shared("rounded dY", 4 * yLength()));
        }
        DeviceBuffer dwb = buf(dw, wLength(), "dw");
        if (halfSaved) {
            half.savedX(xr);
        }
        if (small != null && small.filterGrad(savedX, d, dwb, batch, nOut, g)) {
            backwardData(d, dx);
            return;
        }
        check(
                "cudnnConvolutionBackwardFilter",
                cudnnConvolutionBackwardFilter(
                        h.handle(),
                        h.one(),
                        desc.x,
                        savedX.pointer(),
                        desc.y,
                        d.pointer(),
                        filter,
                        filterPick.algo(),
                        ws(),
                        filterPick.workspace(),
                        h.zero(),
                        desc.w,
                        dwb.pointer()));
        backwardData(d, dx);
    }

    /** dx (overwritten) from the dY operand {@code d}; nothing when {@code dx} is null. */
    private void backwardData(DeviceBuffer d, Tensor dx) {
        if (dx != null && halfSaved) {
            half.backwardData(d, buf(dx, xLength(), "dx"));
        } else if (dx != null) {
            check(
                    "cudnnConvolutionBackwardData",
                    cudnnConvolutionBackwardData(
                            h.handle(),
                            h.one(),
                            desc.w,
                            savedW.pointer(),
                            desc.y,
                            d.pointer(),
                            data,
                            dataPick.algo(),
                            ws(),
                            dataPick.workspace(),
                            h.zero(),
                            desc.x,
                            buf(dx, xLength(), "dx").pointer()));
        }
    }

    @Override
    public void close() {
        if (desc != null) {
            desc.close();
        }
        if (half != null) {
            half.close();
        }
        for (DeviceBuffer b : new DeviceBuffer[] {xr, wr}) {
            if (b != null) {
                b.close();
            }
        }
        xr = null;
        wr = null;
    }
}
