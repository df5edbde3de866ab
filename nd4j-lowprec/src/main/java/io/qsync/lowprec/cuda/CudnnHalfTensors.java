package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudnn.*;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.train.ConvGeom;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;

/**
 * The forward and backward-data convolutions of one FP16 or BF16 {@link CudnnConvolution} on half-size tensors, as
 * QSync's real kernels run them: x and w cast to the format (round to nearest even), multiplied on FP16/BF16 tensor
 * cores with FP32 accumulation, and the output y (forward) and dX (backward data) <em>rounded to the format</em>, then
 * widened to the FP32 tensors the engine keeps. QSync's FP16 kernels do the same ({@code output_bit_mapping {16:16}},
 * "dX = FP16 conv with FP16 output"). The backward filter stays with {@link CudnnConvolution}: FP16 operands, FP32
 * output, as in QSync. This differs from the CPU emulation (QSync's simulation mode: FP32 outputs) by the two output
 * roundings, so it is a switch ({@code -Dqsync.cuda.halfTensors=true}), off by default on cards with TF32 tensor
 * cores and on (NCHW) on cards without them, whose tensor cores take FP16 tensors only
 * ({@link CudnnConvolutions#halfTensorsOn}). The half copy of x is kept for the backward pass; buffers are allocated at construction only. In NHWC ({@code -Dqsync.cuda.halfTensors=nhwc}) the
 * casts to and from the format also transpose (x, dY and w in; y, dX and the saved x out): cuDNN's FP16/BF16
 * tensor-core kernels work in NHWC, and an NCHW call pays for transposes inside cuDNN or takes slower kernels.
 */
final class CudnnHalfTensors implements AutoCloseable {
    /** No half-size tensors (a layout argument's "off"; cuDNN's layouts are 0 and up). */
    static final int OFF = -1;

    private final CudnnHandle h;
    private final QuantKernels qk;
    private final CudaStream s;
    private final Precision format;
    private final ConvGeom g;
    private final int batch;
    private final int nOut;
    /** NHWC half tensors (the casts transpose), else NCHW. */
    private final boolean nhwc;

    private final long xLength;
    private final long yLength;
    private final long wLength;
    private CudnnDescriptors desc;
    private final cudnnConvolutionStruct fwd = new cudnnConvolutionStruct();
    private final cudnnConvolutionStruct data = new cudnnConvolutionStruct();
    private final CudnnAlgorithms.Pick fwdPick;
    private final CudnnAlgorithms.Pick dataPick;
    private final long workspace;
    private DeviceBuffer xh;
    private DeviceBuffer wh;

    /**
     * @param format FP16 or BF16
     * @param layout {@code CUDNN_TENSOR_NCHW} or {@code CUDNN_TENSOR_NHWC} (x, y and w; the casts transpose)
     * @throws CudaException when cuDNN refuses the half-size shape (the caller then keeps its FP32-storage path)
     */
    CudnnHalfTensors(
            CudnnHandle h,
            DeviceAllocator alloc,
            QuantKernels qk,
            CudaStream s,
            ConvGeom g,
            int batch,
            int nOut,
            Precision format,
            int layout,
            String shape) {
        this.h = h;
        this.g = g;
        this.batch = batch;
        this.nOut = nOut;
        this.nhwc = layout == CUDNN_TENSOR_NHWC;
        this.qk = qk;
        this.s = s;
        this.format = format;
        this.xLength = (long) batch * g.c() * g.inPlane();
        this.yLength = (long) batch * nOut * g.outPlane();
        this.wLength = (long) nOut * g.patch();
        int type =
                switch (format) {
                    case FP16 -> CUDNN_DATA_HALF;
                    case BF16 -> CUDNN_DATA_BFLOAT16;
                    default -> throw new IllegalArgumentException("half-size tensors are FP16 or BF16, not " + format);
                };
        try {
            desc = new CudnnDescriptors(g, batch, nOut, type, layout, CUDNN_TENSOR_OP_MATH, fwd, data);
            CudnnAlgorithms algorithms =
                    new CudnnAlgorithms(h.handle(), desc.x, desc.y, desc.w, true, shape + " in " + format);
            fwdPick = algorithms.forward(fwd);
            dataPick = algorithms.backwardData(data);
            workspace = Math.max(fwdPick.workspace(), dataPick.workspace());
            h.reserve("workspace", workspace);
            h.reserve("half y", 2 * yLength);
            h.reserve("half dX", 2 * xLength);
            xh = alloc.allocate("cuDNN " + format + " x", 2 * xLength);
            wh = alloc.allocate("cuDNN " + format + " w", 2 * wLength);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static void check(String call, int rc) {
        CudnnHandle.check(call, rc);
    }

    /** "fwd algo 1, bwd-data algo 1" in words, for {@link CudnnConvolution#describe()}. */
    String describe() {
        return format + " tensors" + (nhwc ? " NHWC" : "") + " (fwd algo " + fwdPick.algo() + ", bwd-data algo "
                + dataPick.algo() + ", workspace " + workspace + " B)";
    }

    /** y (FP32, holding values of the format) from x and w; keeps the half copies of x and w for the backward pass. */
    void forward(DeviceBuffer x, DeviceBuffer w, DeviceBuffer y) {
        if (nhwc) {
            qk.castToNhwc(x, batch, g.c(), g.inPlane(), format, xh, s);
            qk.castToNhwc(w, nOut, g.c(), g.kh() * g.kw(), format, wh, s);
        } else {
            qk.cast(x, xLength, format, xh, s);
            qk.cast(w, wLength, format, wh, s);
        }
        DeviceBuffer yh = h.shared("half y", 2 * yLength);
        check(
                "cudnnConvolutionForward(" + format + ")",
                cudnnConvolutionForward(
                        h.handle(),
                        h.one(),
                        desc.x,
                        xh.pointer(),
                        desc.w,
                        wh.pointer(),
                        fwd,
                        fwdPick.algo(),
                        h.shared("workspace", workspace).pointer(),
                        fwdPick.workspace(),
                        h.zero(),
                        desc.y,
                        yh.pointer()));
        widen(yh, nOut, g.outPlane(), y);
    }

    /** FP32 NCHW values from a half-size tensor of {@code channels} x {@code plane} per image. */
    private void widen(DeviceBuffer half, int channels, int plane, DeviceBuffer out) {
        if (nhwc) {
            qk.widenToNchw(half, batch, channels, plane, format, out, s);
        } else {
            qk.widen16(half, (long) batch * channels * plane, format, out, s);
        }
    }

    /** The half-size x and w buffers (for a caller that writes them itself: an INT8 layer's codes as FP16). */
    DeviceBuffer[] operands() {
        if (nhwc) {
            throw new IllegalStateException("NHWC half tensors take no NCHW operands from the caller");
        }
        return new DeviceBuffer[] {xh, wh};
    }

    /** The saved x of the last forward as FP32 values of the format into {@code out} (for the filter gradient). */
    void savedX(DeviceBuffer out) {
        widen(xh, g.c(), g.inPlane(), out);
    }

    /** dX (FP32, holding values of the format) from dY (FP32, cast to the format here) and the saved w. */
    void backwardData(DeviceBuffer dy, DeviceBuffer dx) {
        DeviceBuffer dyh = h.shared("half y", 2 * yLength);
        DeviceBuffer dxh = h.shared("half dX", 2 * xLength);
        if (nhwc) {
            qk.castToNhwc(dy, batch, nOut, g.outPlane(), format, dyh, s);
        } else {
            qk.cast(dy, yLength, format, dyh, s);
        }
        check(
                "cudnnConvolutionBackwardData(" + format + ")",
                cudnnConvolutionBackwardData(
                        h.handle(),
                        h.one(),
                        desc.w,
                        wh.pointer(),
                        desc.y,
                        dyh.pointer(),
                        data,
                        dataPick.algo(),
                        h.shared("workspace", workspace).pointer(),
                        dataPick.workspace(),
                        h.zero(),
                        desc.x,
                        dxh.pointer()));
        widen(dxh, g.c(), g.inPlane(), dx);
    }

    @Override
    public void close() {
        if (desc != null) {
            desc.close();
        }
        for (DeviceBuffer b : new DeviceBuffer[] {xh, wh}) {
            if (b != null) {
                b.close();
            }
        }
        xh = null;
        wh = null;
    }
}
