package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cublas.*;

import java.util.HashMap;
import java.util.Map;
import org.bytedeco.cuda.cublas.cublasLtContext;
import org.bytedeco.cuda.cublas.cublasLtMatmulDescOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulHeuristicResult_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulPreferenceOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatrixLayoutOpaque_t;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * Row-major GEMMs {@code D[M,N] = alpha · op(A)·op(B)} through cuBLASLt. Row-major A, B, D are the column-major
 * transposes, so the call is issued as {@code Dᵀ = op(B)ᵀ·op(A)ᵀ}. Algorithms come from
 * {@code cublasLtMatmulAlgoGetHeuristic} with a {@value #WORKSPACE_BYTES}-byte workspace and are cached per
 * (type, M, N, K, transposes). INT8 and FP8 require {@code transA = false, transB = true} (both operands K-major).
 */
public final class LtMatmul implements AutoCloseable {
    /** Workspace offered to cuBLASLt. */
    public static final long WORKSPACE_BYTES = 32L << 20;

    private final cublasLtContext handle = new cublasLtContext();
    private final DeviceBuffer workspace;
    private final Map<Key, Plan> cache = new HashMap<>();
    private final boolean fp8;

    /** Shape key of the algorithm cache. */
    public record Key(GemmType type, long m, long n, long k, boolean transA, boolean transB, boolean alphaVector) {
        @Override
        public String toString() {
            return type + " " + m + "x" + n + "x" + k + (transA ? " Aᵀ" : "") + (transB ? " Bᵀ" : "")
                    + (alphaVector ? " alpha[N] on device" : "");
        }
    }

    /** A prepared GEMM: descriptors and up to 8 heuristic algorithms, the first being the one used. */
    public final class Plan implements AutoCloseable {
        final Key key;
        final cublasLtMatmulDescOpaque_t desc;
        final cublasLtMatrixLayoutOpaque_t la;
        final cublasLtMatrixLayoutOpaque_t lb;
        final cublasLtMatrixLayoutOpaque_t ld;
        final cublasLtMatmulHeuristicResult_t results;
        final int algos;
        final Pointer alpha;
        final Pointer beta;

        Plan(Key key) {
            this.key = key;
            GemmType t = key.type();
            PointerPointer<Pointer> pp = new PointerPointer<>(1);
            Check.blas(
                    "cublasLtMatmulDescCreate(" + key + ")", cublasLtMatmulDescCreate(pp, t.computeType, t.scaleType));
            desc = new cublasLtMatmulDescOpaque_t(pp.get(0));
            // column-major call: A' = B (op = transB), B' = A (op = transA), m' = N, n' = M
            setDesc(CUBLASLT_MATMUL_DESC_TRANSA, key.transB() ? CUBLAS_OP_T : CUBLAS_OP_N);
            setDesc(CUBLASLT_MATMUL_DESC_TRANSB, key.transA() ? CUBLAS_OP_T : CUBLAS_OP_N);
            if (key.alphaVector()) {
                // one alpha per row of the column-major D [N, M], i.e. per output channel; beta = 0
                setDesc(CUBLASLT_MATMUL_DESC_POINTER_MODE, CUBLASLT_POINTER_MODE_ALPHA_DEVICE_VECTOR_BETA_ZERO);
            }
            long m = key.m(), n = key.n(), k = key.k();
            la = layout(pp, t.bType, key.transB() ? k : n, key.transB() ? n : k);
            lb = layout(pp, t.aType, key.transA() ? m : k, key.transA() ? k : m);
            ld = layout(pp, t.dType, n, m);
            Check.blas("cublasLtMatmulPreferenceCreate", cublasLtMatmulPreferenceCreate(pp));
            cublasLtMatmulPreferenceOpaque_t pref = new cublasLtMatmulPreferenceOpaque_t(pp.get(0));
            try (LongPointer ws = new LongPointer(1).put(WORKSPACE_BYTES)) {
                Check.blas(
                        "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)",
                        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, ws, 8));
            }
            results = new cublasLtMatmulHeuristicResult_t(8);
            int[] count = new int[1];
            int rc = cublasLtMatmulAlgoGetHeuristic(handle, desc, la, lb, ld, ld, pref, 8, results, count);
            cublasLtMatmulPreferenceDestroy(pref);
            Check.blas("cublasLtMatmulAlgoGetHeuristic(" + key + ")", rc);
            if (count[0] == 0) {
                throw new CudaException("cublasLtMatmulAlgoGetHeuristic(" + key + ") failed: no algorithm", 15);
            }
            algos = count[0];
            if (t.scaleType == org.bytedeco.cuda.global.cudart.CUDA_R_32I) {
                alpha = new IntPointer(1).put(1);
                beta = new IntPointer(1).put(0);
            } else {
                alpha = new FloatPointer(1).put(1f);
                beta = new FloatPointer(1).put(0f);
            }
        }

        private void setDesc(int attr, int value) {
            try (IntPointer v = new IntPointer(1).put(value)) {
                Check.blas(
                        "cublasLtMatmulDescSetAttribute(" + attr + ")",
                        cublasLtMatmulDescSetAttribute(desc, attr, v, 4));
            }
        }

        private cublasLtMatrixLayoutOpaque_t layout(PointerPointer<Pointer> pp, int type, long rows, long cols) {
            Check.blas(
                    "cublasLtMatrixLayoutCreate(" + key + ")", cublasLtMatrixLayoutCreate(pp, type, rows, cols, rows));
            return new cublasLtMatrixLayoutOpaque_t(pp.get(0));
        }

        /** @return number of heuristic algorithms available (≤ 8) */
        public int algorithms() {
            return algos;
        }

        /**
         * Enqueues the GEMM with heuristic algorithm {@code algo} (0 is the heuristic's first choice).
         *
         * @param aScale FP8 only: one float, scale of A (row-major sense); null otherwise
         * @param bScale FP8 only: one float, scale of B
         */
        public void run(
                int algo,
                DeviceBuffer a,
                DeviceBuffer b,
                DeviceBuffer d,
                DeviceBuffer aScale,
                DeviceBuffer bScale,
                CudaStream s) {
            if (key.type().isFp8()) {
                setPtr(CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, bScale);
                setPtr(CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, aScale);
            }
            cublasLtMatmulHeuristicResult_t r = results.getPointer(algo);
            int rc = cublasLtMatmul(
                    handle,
                    desc,
                    alpha,
                    b.pointer(),
                    la,
                    a.pointer(),
                    lb,
                    beta,
                    d.pointer(),
                    ld,
                    d.pointer(),
                    ld,
                    r.algo(),
                    workspace.pointer(),
                    WORKSPACE_BYTES,
                    s.handle());
            Check.blas("cublasLtMatmul(" + key + ", algo " + algo + ")", rc);
        }

        /**
         * Enqueues the GEMM of a plan made by {@link #planAlphaVector}: {@code D[:, j] = alpha[j] · (A·Bᵀ)[:, j]}.
         *
         * @param alpha device vector of N floats
         */
        public void runAlphaVector(
                int algo, DeviceBuffer a, DeviceBuffer b, DeviceBuffer d, DeviceBuffer alpha, CudaStream s) {
            if (!key.alphaVector()) {
                throw new IllegalStateException(key + ": not an alpha-vector plan");
            }
            cublasLtMatmulHeuristicResult_t r = results.getPointer(algo);
            int rc = cublasLtMatmul(
                    handle,
                    desc,
                    alpha.pointer(),
                    b.pointer(),
                    la,
                    a.pointer(),
                    lb,
                    beta,
                    d.pointer(),
                    ld,
                    d.pointer(),
                    ld,
                    r.algo(),
                    workspace.pointer(),
                    WORKSPACE_BYTES,
                    s.handle());
            Check.blas("cublasLtMatmul(" + key + ", algo " + algo + ")", rc);
        }

        private void setPtr(int attr, DeviceBuffer buf) {
            if (buf == null) {
                throw new IllegalArgumentException(key + ": FP8 GEMM needs scale buffers");
            }
            try (PointerPointer<Pointer> v = new PointerPointer<>(1)) {
                v.put(0, buf.pointer());
                Check.blas(
                        "cublasLtMatmulDescSetAttribute(SCALE_POINTER)",
                        cublasLtMatmulDescSetAttribute(desc, attr, v, 8));
            }
        }

        @Override
        public void close() {
            cublasLtMatrixLayoutDestroy(la);
            cublasLtMatrixLayoutDestroy(lb);
            cublasLtMatrixLayoutDestroy(ld);
            cublasLtMatmulDescDestroy(desc);
            results.close();
        }
    }

    /**
     * @param device    the device (FP8 types need compute capability ≥ 8.9)
     * @param allocator allocator for the workspace
     */
    public LtMatmul(CudaDevice device, DeviceAllocator allocator) {
        Check.blas("cublasLtCreate", cublasLtCreate(handle));
        workspace = allocator.allocate("cublasLt workspace", WORKSPACE_BYTES);
        fp8 = device.facts().hasFp8();
    }

    /** @return the cached plan for this shape, creating it (with the heuristic query) on first use */
    public Plan plan(GemmType type, long m, long n, long k, boolean transA, boolean transB) {
        if (type.needsKMajor && (transA || !transB)) {
            throw new IllegalArgumentException(
                    type + " GEMM needs A·Bᵀ with K-major operands (transA=false, transB=true)");
        }
        if (type.isFp8() && !fp8) {
            throw new CudaException("cublasLtMatmul(" + type + ") needs compute capability >= 8.9", 15);
        }
        return cache.computeIfAbsent(new Key(type, m, n, k, transA, transB, false), Plan::new);
    }

    /**
     * A plan with a per-output-channel alpha vector on the device ({@code CUBLASLT_POINTER_MODE_ALPHA_DEVICE_VECTOR_BETA_ZERO}),
     * {@code A·Bᵀ} only; throws {@link CudaException} (status 15, NOT_SUPPORTED) when cuBLASLt offers no algorithm.
     */
    public Plan planAlphaVector(GemmType type, long m, long n, long k) {
        return cache.computeIfAbsent(new Key(type, m, n, k, false, true, true), Plan::new);
    }

    /**
     * Enqueues {@code D[M,N] = op(A)·op(B)} with the cached heuristic algorithm. Row-major storage:
     * A is {@code [M,K]} ({@code [K,M]} if transA), B is {@code [K,N]} ({@code [N,K]} if transB).
     */
    public void matmul(
            GemmType type,
            boolean transA,
            boolean transB,
            long m,
            long n,
            long k,
            DeviceBuffer a,
            DeviceBuffer b,
            DeviceBuffer d,
            DeviceBuffer aScale,
            DeviceBuffer bScale,
            CudaStream s) {
        plan(type, m, n, k, transA, transB).run(0, a, b, d, aScale, bScale, s);
    }

    /** @return number of cached plans */
    public int cachedPlans() {
        return cache.size();
    }

    @Override
    public void close() {
        cache.values().forEach(Plan::close);
        cache.clear();
        workspace.close();
        cublasLtDestroy(handle);
    }
}
