package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudnn.*;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.train.ConvGeom;
import io.qsync.lowprec.train.Convolution;
import io.qsync.lowprec.train.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdFilterAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * {@link Convolution} through cuDNN's long-standing (legacy) convolution API, FP32 data in NCHW. FP32 runs on FMA
 * units only ({@code CUDNN_FMA_MATH}: no TF32). TF32 follows QSync's rule: x, w (and dY in backward) are rounded to
 * TF32 with round-to-nearest-even by the cast kernel into scratch, then multiplied on tensor cores with FP32
 * accumulation. Each of the three operations takes the first algorithm of cuDNN's {@code _v7} heuristic that is
 * supported, deterministic and needs at most {@link #WORKSPACE_CAP} bytes of workspace: the choice depends only on
 * the shapes and the device, so replicas compute bit for bit alike. Buffers are allocated at construction only.
 */
final class CudnnConvolution implements Convolution {
    /** Most workspace one operation may use. */
    static final long WORKSPACE_CAP = 256L << 20;

    private final CudnnHandle h;
    private final QuantKernels qk;
    private final CudaStream s;
    private final ConvGeom g;
    private final int batch;
    private final int nOut;
    private final boolean tf32;
    private final cudnnTensorStruct xDesc = new cudnnTensorStruct();
    private final cudnnTensorStruct yDesc = new cudnnTensorStruct();
    private final cudnnFilterStruct wDesc = new cudnnFilterStruct();
    private final cudnnConvolutionStruct fwd = new cudnnConvolutionStruct();
    private final cudnnConvolutionStruct data = new cudnnConvolutionStruct();
    private final cudnnConvolutionStruct filter = new cudnnConvolutionStruct();
    private final List<Runnable> undo = new ArrayList<>();
    private final Pick fwdPick;
    private final Pick dataPick;
    private final Pick filterPick;
    private final long workspace;
    private DeviceBuffer xr;
    private DeviceBuffer wr;
    private DeviceBuffer savedX;
    private DeviceBuffer savedW;

    /** An algorithm, its workspace and the math type it runs with. */
    private record Pick(int algo, long workspace, int math) {}

    /** Workspace query of one operation for one algorithm. */
    private interface WorkspaceSize {
        int query(int algo, SizeTPointer bytes);
    }

    /**
     * Sets up the descriptors and chooses the algorithms.
     *
     * @param qk kernels for the TF32 casts (unused for FP32)
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
            Precision precision) {
        this.h = h;
        this.qk = qk;
        this.s = s;
        this.g = g;
        this.batch = batch;
        this.nOut = nOut;
        this.tf32 = precision == Precision.TF32;
        try {
            check("cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(xDesc));
            undo.add(() -> cudnnDestroyTensorDescriptor(xDesc));
            check("cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(yDesc));
            undo.add(() -> cudnnDestroyTensorDescriptor(yDesc));
            check("cudnnCreateFilterDescriptor", cudnnCreateFilterDescriptor(wDesc));
            undo.add(() -> cudnnDestroyFilterDescriptor(wDesc));
            for (cudnnConvolutionStruct c : new cudnnConvolutionStruct[] {fwd, data, filter}) {
                check("cudnnCreateConvolutionDescriptor", cudnnCreateConvolutionDescriptor(c));
                undo.add(() -> cudnnDestroyConvolutionDescriptor(c));
                check(
                        "cudnnSetConvolution2dDescriptor",
                        cudnnSetConvolution2dDescriptor(
                                c,
                                g.padTop(),
                                g.padLeft(),
                                g.sh(),
                                g.sw(),
                                1,
                                1,
                                CUDNN_CROSS_CORRELATION,
                                CUDNN_DATA_FLOAT));
                check("cudnnSetConvolutionMathType", cudnnSetConvolutionMathType(c, wantedMath()));
            }
            check(
                    "cudnnSetTensor4dDescriptor(x)",
                    cudnnSetTensor4dDescriptor(xDesc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, batch, g.c(), g.h(), g.w()));
            check(
                    "cudnnSetTensor4dDescriptor(y)",
                    cudnnSetTensor4dDescriptor(
                            yDesc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, batch, nOut, g.oh(), g.ow()));
            check(
                    "cudnnSetFilter4dDescriptor",
                    cudnnSetFilter4dDescriptor(
                            wDesc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, nOut, g.c(), g.kh(), g.kw()));
            fwdPick = pickForward();
            dataPick = pickBackwardData();
            filterPick = pickBackwardFilter();
            workspace = Math.max(fwdPick.workspace, Math.max(dataPick.workspace, filterPick.workspace));
            h.reserve("workspace", workspace);
            if (tf32) {
                xr = alloc.allocate("cuDNN TF32 x", 4L * batch * g.c() * g.inPlane());
                wr = alloc.allocate("cuDNN TF32 w", 4L * nOut * g.patch());
                h.reserve("TF32 dY", 4L * batch * nOut * g.outPlane());
            }
        } catch (RuntimeException e) {
            close();
            throw e;
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
        return tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
    }

    /** The heuristic of one operation: fills {@code perf} with up to {@code max} candidates, best first. */
    private interface Heuristic {
        int run(int max, int[] returned);
    }

    /** Status, determinism, algorithm and math type of candidate {@code i}. */
    private interface Candidate {
        int[] fields(int i);
    }

    /**
     * The first candidate of the heuristic that is supported, deterministic and whose workspace fits, its math type
     * set on {@code desc} (FP32: always FMA).
     */
    private Pick pick(
            String op, cudnnConvolutionStruct desc, int max, Heuristic heuristic, Candidate c, WorkspaceSize size) {
        int[] n = new int[1];
        check("cudnnGetConvolution" + op + "Algorithm_v7", heuristic.run(max, n));
        StringBuilder seen = new StringBuilder();
        try (SizeTPointer bytes = new SizeTPointer(1)) {
            for (int i = 0; i < n[0]; i++) {
                int[] f = c.fields(i); // status, determinism, algo, math
                seen.append(' ').append(f[2]).append(f[0] == CUDNN_STATUS_SUCCESS ? "" : "/unsupported");
                seen.append(f[1] == CUDNN_DETERMINISTIC ? "" : "/nondeterministic");
                if (f[0] != CUDNN_STATUS_SUCCESS || f[1] != CUDNN_DETERMINISTIC) {
                    continue;
                }
                int m = tf32 ? f[3] : CUDNN_FMA_MATH;
                if (cudnnSetConvolutionMathType(desc, m) != CUDNN_STATUS_SUCCESS
                        || size.query(f[2], bytes) != CUDNN_STATUS_SUCCESS) {
                    seen.append("/refused");
                    continue;
                }
                if (bytes.get() <= WORKSPACE_CAP) {
                    return new Pick(f[2], bytes.get(), m);
                }
                seen.append("/workspace ").append(bytes.get());
            }
        }
        throw new CudaException(
                "no deterministic cuDNN " + op + " algorithm within " + (WORKSPACE_CAP >> 20) + " MiB of workspace for "
                        + shape() + " (heuristic:" + seen + ")",
                CUDNN_STATUS_NOT_SUPPORTED);
    }

    private Pick pickForward() {
        try (cudnnConvolutionFwdAlgoPerf_t perf = new cudnnConvolutionFwdAlgoPerf_t(CUDNN_CONVOLUTION_FWD_ALGO_COUNT)) {
            return pick(
                    "Forward",
                    fwd,
                    CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                    (max, n) ->
                            cudnnGetConvolutionForwardAlgorithm_v7(h.handle(), xDesc, wDesc, fwd, yDesc, max, n, perf),
                    i -> {
                        cudnnConvolutionFwdAlgoPerf_t p = perf.getPointer(i);
                        return new int[] {p.status(), p.determinism(), p.algo(), p.mathType()};
                    },
                    (a, b) -> cudnnGetConvolutionForwardWorkspaceSize(h.handle(), xDesc, wDesc, fwd, yDesc, a, b));
        }
    }

    private Pick pickBackwardData() {
        int count = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
        try (cudnnConvolutionBwdDataAlgoPerf_t perf = new cudnnConvolutionBwdDataAlgoPerf_t(count)) {
            return pick(
                    "BackwardData",
                    data,
                    count,
                    (max, n) -> cudnnGetConvolutionBackwardDataAlgorithm_v7(
                            h.handle(), wDesc, yDesc, data, xDesc, max, n, perf),
                    i -> {
                        cudnnConvolutionBwdDataAlgoPerf_t p = perf.getPointer(i);
                        return new int[] {p.status(), p.determinism(), p.algo(), p.mathType()};
                    },
                    (a, b) ->
                            cudnnGetConvolutionBackwardDataWorkspaceSize(h.handle(), wDesc, yDesc, data, xDesc, a, b));
        }
    }

    private Pick pickBackwardFilter() {
        int count = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
        try (cudnnConvolutionBwdFilterAlgoPerf_t perf = new cudnnConvolutionBwdFilterAlgoPerf_t(count)) {
            return pick(
                    "BackwardFilter",
                    filter,
                    count,
                    (max, n) -> cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                            h.handle(), xDesc, yDesc, filter, wDesc, max, n, perf),
                    i -> {
                        cudnnConvolutionBwdFilterAlgoPerf_t p = perf.getPointer(i);
                        return new int[] {p.status(), p.determinism(), p.algo(), p.mathType()};
                    },
                    (a, b) -> cudnnGetConvolutionBackwardFilterWorkspaceSize(
                            h.handle(), xDesc, yDesc, filter, wDesc, a, b));
        }
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
        return "cuDNN " + (tf32 ? "TF32" : "FP32") + " (fwd algo " + fwdPick.algo + " " + math(fwdPick.math)
                + ", bwd-data algo " + dataPick.algo + " " + math(dataPick.math) + ", bwd-filter algo "
                + filterPick.algo + " " + math(filterPick.math) + ", workspace " + workspace + " B)";
    }

    private static DeviceBuffer buf(Tensor t, long length, String role) {
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
        qk.cast(src, length, Precision.TF32, dst, s);
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
        savedX = tf32 ? rounded(xb, xLength(), xr) : xb;
        savedW = tf32 ? rounded(wb, wLength(), wr) : wb;
        check(
                "cudnnConvolutionForward",
                cudnnConvolutionForward(
                        h.handle(),
                        h.one(),
                        xDesc,
                        savedX.pointer(),
                        wDesc,
                        savedW.pointer(),
                        fwd,
                        fwdPick.algo,
                        ws(),
                        fwdPick.workspace,
                        h.zero(),
                        yDesc,
                        yb.pointer()));
    }

    @Override
    public void backward(Tensor dy, Tensor dx, Tensor dw) {
        if (savedX == null) {
            throw new IllegalStateException("backward before forward");
        }
        DeviceBuffer d = buf(dy, yLength(), "dy");
        if (tf32) {
            d = rounded(d, yLength(), h.shared("TF32 dY", 4 * yLength()));
        }
        check(
                "cudnnConvolutionBackwardFilter",
                cudnnConvolutionBackwardFilter(
                        h.handle(),
                        h.one(),
                        xDesc,
                        savedX.pointer(),
                        yDesc,
                        d.pointer(),
                        filter,
                        filterPick.algo,
                        ws(),
                        filterPick.workspace,
                        h.zero(),
                        wDesc,
                        buf(dw, wLength(), "dw").pointer()));
        if (dx != null) {
            check(
                    "cudnnConvolutionBackwardData",
                    cudnnConvolutionBackwardData(
                            h.handle(),
                            h.one(),
                            wDesc,
                            savedW.pointer(),
                            yDesc,
                            d.pointer(),
                            data,
                            dataPick.algo,
                            ws(),
                            dataPick.workspace,
                            h.zero(),
                            xDesc,
                            buf(dx, xLength(), "dx").pointer()));
        }
    }

    @Override
    public void close() {
        for (int i = undo.size() - 1; i >= 0; i--) {
            undo.get(i).run();
        }
        undo.clear();
        for (DeviceBuffer b : new DeviceBuffer[] {xr, wr}) {
            if (b != null) {
                b.close();
            }
        }
        xr = null;
        wr = null;
    }
}
