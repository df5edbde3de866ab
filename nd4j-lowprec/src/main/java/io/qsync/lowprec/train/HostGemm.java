package io.qsync.lowprec.train;

/**
 * The reference GEMM of {@link HostOps}: {@code C = alpha op(A) op(B) + beta C} over row-major float arrays, each output
 * summed in one fixed order (large products split by rows over the common fork-join pool).
 */
final class HostGemm {
    private HostGemm() {}

    static void gemm(
            boolean transA,
            boolean transB,
            int m,
            int n,
            int k,
            float alpha,
            HostTensor ha,
            HostTensor hb,
            float beta,
            HostTensor hc) {
        if (ha.len() < (long) m * k || hb.len() < (long) k * n || hc.len() < (long) m * n) {
            throw new IllegalArgumentException(
                    "gemm " + m + "x" + n + "x" + k + " on tensors of " + ha.len() + ", " + hb.len() + ", " + hc.len());
        }
        float[] av = ha.data();
        float[] bv = hb.data();
        float[] cv = hc.data();
        int ao = ha.offset();
        int bo = hb.offset();
        int co = hc.offset();
        java.util.stream.IntStream rows = java.util.stream.IntStream.range(0, m);
        if ((long) m * n * k >= (1L << 22)) {
            rows = rows.parallel();
        }
        rows.forEach(i -> {
            float[] acc = new float[n];
            float[] arow = new float[k];
            for (int p = 0; p < k; p++) {
                arow[p] = transA ? av[ao + p * m + i] : av[ao + i * k + p];
            }
            if (transB) {
                for (int j = 0; j < n; j++) {
                    int bj = bo + j * k;
                    float s = 0;
                    for (int p = 0; p < k; p++) {
                        s += arow[p] * bv[bj + p];
                    }
                    acc[j] = s;
                }
            } else {
                for (int p = 0; p < k; p++) {
                    float aip = arow[p];
                    if (aip == 0f) {
                        continue;
                    }
                    int bp = bo + p * n;
                    for (int j = 0; j < n; j++) {
                        acc[j] += aip * bv[bp + j];
                    }
                }
            }
            int ci = co + i * n;
            for (int j = 0; j < n; j++) {
                cv[ci + j] = beta == 0f ? alpha * acc[j] : alpha * acc[j] + beta * cv[ci + j];
            }
        });
    }
}
