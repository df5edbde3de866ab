package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudnn.*;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdFilterAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * Algorithm choice for one {@link CudnnConvolution}: for each of forward, backward data and backward filter, the first
 * candidate of cuDNN's {@code _v7} heuristic (long-standing API, no benchmarking runs; or of its measured ranking,
 * {@link #find}) that is supported, deterministic ({@code CUDNN_DETERMINISTIC}), sums directly (the GEMM family;
 * Winograd and FFT only with {@link #TRANSFORMS}) and needs at most {@link #WORKSPACE_CAP} bytes of workspace. The
 * heuristic's choice depends only on the shapes and the device, so two replicas pick the same algorithms and compute
 * bit for bit alike. FP32 runs on FMA units only ({@code CUDNN_FMA_MATH}); TF32 takes the math type the heuristic
 * names for the candidate.
 */
final class CudnnAlgorithms {
    /** Most workspace one operation may use. */
    static final long WORKSPACE_CAP = 1L << 30;

    /**
     * {@code -Dqsync.cuda.cudnn.transforms=true} also admits the Winograd and FFT algorithms: faster on some shapes,
     * but their transforms round differently from a direct sum (up to ~1e-5 of max |dW| per step measured on the H100,
     * which Adam amplifies past 1e-4 of the parameters within 20 steps). Off by default: DL4J's semantics first.
     */
    static final boolean TRANSFORMS = Boolean.getBoolean(
            "qsync.cuda.cudnn.transforms"); // 1 GiB: the 1024-row VGG layers need ~400 MB for their fast paths

    /**
     * {@code -Dqsync.cuda.cudnn.find=true} (read per convolution): rank the candidates by cuDNN's own timing of each
     * ({@code cudnnFind*Algorithm}, which runs them once at set-up) instead of its heuristic; the same filters apply.
     * The fastest one may then differ between runs and replicas (their updates stay identical: they apply the same
     * all-reduced gradient). Off by default.
     */
    private final boolean find = Boolean.getBoolean("qsync.cuda.cudnn.find");

    private final cudnnContext h;
    private final cudnnTensorStruct xDesc;
    private final cudnnTensorStruct yDesc;
    private final cudnnFilterStruct wDesc;
    private final boolean tf32;
    private final String shape;

    /** An algorithm, its workspace and the math type it runs with. */
    record Pick(int algo, long workspace, int math) {}

    /** Workspace query of one operation for one algorithm. */
    private interface WorkspaceSize {
        int query(int algo, SizeTPointer bytes);
    }

    /**
     * @param shape the convolution in words, for errors
     */
    CudnnAlgorithms(
            cudnnContext h,
            cudnnTensorStruct xDesc,
            cudnnTensorStruct yDesc,
            cudnnFilterStruct wDesc,
            boolean tf32,
            String shape) {
        this.h = h;
        this.xDesc = xDesc;
        this.yDesc = yDesc;
        this.wDesc = wDesc;
        this.tf32 = tf32;
        this.shape = shape;
    }

    private static void check(String call, int rc) {
        CudnnHandle.check(call, rc);
    }

    /** The heuristic of one operation: up to {@code max} candidates, best first, and their number in {@code returned[0]}. */
    private interface Heuristic {
        int run(int max, int[] returned);
    }

    /**
     * One algorithm as cuDNN ranks it: its status, determinism and math type, and (from the measured ranking) its time
     * and workspace; the heuristic reports no time (-1).
     */
    record Candidate(int algo, int status, int determinism, int math, float ms, long workspace) {}

    /**
     * The candidates of one operation, cuDNN's heuristic order or, {@code measured}, fastest first
     * ({@code cudnnFind*Algorithm}, which runs each).
     */
    private static List<Candidate> ranked(
            String op, int max, boolean measured, Heuristic run, IntFunction<Candidate> at) {
        int[] n = new int[1];
        check(
                measured ? "cudnnFindConvolution" + op + "Algorithm" : "cudnnGetConvolution" + op + "Algorithm_v7",
                run.run(max, n));
        List<Candidate> out = new ArrayList<>(n[0]);
        for (int i = 0; i < n[0]; i++) {
            out.add(at.apply(i));
        }
        return out;
    }

    /**
     * The first of the candidates that is supported, deterministic and whose workspace fits, its math type set on
     * {@code desc} (FP32: always FMA).
     */
    private Pick pick(
            String op,
            cudnnConvolutionStruct desc,
            List<Candidate> candidates,
            WorkspaceSize size,
            java.util.function.IntPredicate direct) {
        StringBuilder seen = new StringBuilder();
        try (SizeTPointer bytes = new SizeTPointer(1)) {
            for (Candidate c : candidates) {
                seen.append(' ').append(c.algo()).append(c.status() == CUDNN_STATUS_SUCCESS ? "" : "/unsupported");
                seen.append(c.determinism() == CUDNN_DETERMINISTIC ? "" : "/nondeterministic");
                if (c.status() != CUDNN_STATUS_SUCCESS || c.determinism() != CUDNN_DETERMINISTIC) {
                    continue;
                }
                if (!TRANSFORMS && !direct.test(c.algo())) {
                    seen.append("/transform");
                    continue;
                }
                int m = tf32 ? c.math() : CUDNN_FMA_MATH;
                if (cudnnSetConvolutionMathType(desc, m) != CUDNN_STATUS_SUCCESS
                        || size.query(c.algo(), bytes) != CUDNN_STATUS_SUCCESS) {
                    seen.append("/refused");
                    continue;
                }
                if (bytes.get() <= WORKSPACE_CAP) {
                    return new Pick(c.algo(), bytes.get(), m);
                }
                seen.append("/workspace ").append(bytes.get());
            }
        }
        throw new CudaException(
                "no deterministic cuDNN " + op + " algorithm within " + (WORKSPACE_CAP >> 20) + " MiB of workspace for "
                        + shape + " (heuristic:" + seen + ")",
                CUDNN_STATUS_NOT_SUPPORTED);
    }

    /** The forward candidates, in the heuristic's order or ({@code measured}) fastest first. */
    List<Candidate> forwardCandidates(cudnnConvolutionStruct fwd, boolean measured) {
        int count = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
        try (cudnnConvolutionFwdAlgoPerf_t perf = new cudnnConvolutionFwdAlgoPerf_t(count)) {
            return ranked(
                    "Forward",
                    count,
                    measured,
                    (max, n) -> measured
                            ? cudnnFindConvolutionForwardAlgorithm(h, xDesc, wDesc, fwd, yDesc, max, n, perf)
                            : cudnnGetConvolutionForwardAlgorithm_v7(h, xDesc, wDesc, fwd, yDesc, max, n, perf),
                    i -> {
                        cudnnConvolutionFwdAlgoPerf_t q = perf.getPointer(i);
                        return new Candidate(q.algo(), q.status(), q.determinism(), q.mathType(), q.time(), q.memory());
                    });
        }
    }

    /** The backward-data candidates, in the heuristic's order or ({@code measured}) fastest first. */
    List<Candidate> backwardDataCandidates(cudnnConvolutionStruct data, boolean measured) {
        int count = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
        try (cudnnConvolutionBwdDataAlgoPerf_t perf = new cudnnConvolutionBwdDataAlgoPerf_t(count)) {
            return ranked(
                    "BackwardData",
                    count,
                    measured,
                    (max, n) -> measured
                            ? cudnnFindConvolutionBackwardDataAlgorithm(h, wDesc, yDesc, data, xDesc, max, n, perf)
                            : cudnnGetConvolutionBackwardDataAlgorithm_v7(h, wDesc, yDesc, data, xDesc, max, n, perf),
                    i -> {
                        cudnnConvolutionBwdDataAlgoPerf_t q = perf.getPointer(i);
                        return new Candidate(q.algo(), q.status(), q.determinism(), q.mathType(), q.time(), q.memory());
                    });
        }
    }

    /** The backward-filter candidates, in the heuristic's order or ({@code measured}) fastest first. */
    List<Candidate> backwardFilterCandidates(cudnnConvolutionStruct filter, boolean measured) {
        int count = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
        try (cudnnConvolutionBwdFilterAlgoPerf_t perf = new cudnnConvolutionBwdFilterAlgoPerf_t(count)) {
            return ranked(
                    "BackwardFilter",
                    count,
                    measured,
                    (max, n) -> measured
                            ? cudnnFindConvolutionBackwardFilterAlgorithm(h, xDesc, yDesc, filter, wDesc, max, n, perf)
                            : cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                                    h, xDesc, yDesc, filter, wDesc, max, n, perf),
                    i -> {
                        cudnnConvolutionBwdFilterAlgoPerf_t q = perf.getPointer(i);
                        return new Candidate(q.algo(), q.status(), q.determinism(), q.mathType(), q.time(), q.memory());
                    });
        }
    }

    /** The forward algorithm, its math type set on {@code fwd}. */
    Pick forward(cudnnConvolutionStruct fwd) {
        return pick(
                "Forward",
                fwd,
                forwardCandidates(fwd, find),
                (a, b) -> cudnnGetConvolutionForwardWorkspaceSize(h, xDesc, wDesc, fwd, yDesc, a, b),
                a -> a <= CUDNN_CONVOLUTION_FWD_ALGO_DIRECT); // implicit, precomputed, explicit GEMM, direct
    }

    /** The backward-data algorithm, its math type set on {@code data}. */
    Pick backwardData(cudnnConvolutionStruct data) {
        return pick(
                "BackwardData",
                data,
                backwardDataCandidates(data, find),
                (a, b) -> cudnnGetConvolutionBackwardDataWorkspaceSize(h, wDesc, yDesc, data, xDesc, a, b),
                a -> a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0 || a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1);
    }

    /** The backward-filter algorithm, its math type set on {@code filter}. */
    Pick backwardFilter(cudnnConvolutionStruct filter) {
        return pick(
                "BackwardFilter",
                filter,
                backwardFilterCandidates(filter, find),
                (a, b) -> cudnnGetConvolutionBackwardFilterWorkspaceSize(h, xDesc, yDesc, filter, wDesc, a, b),
                a -> a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0
                        || a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1
                        || a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3);
    }
}
