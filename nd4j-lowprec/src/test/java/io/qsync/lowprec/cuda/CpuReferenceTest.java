package io.qsync.lowprec.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.check.CpuReference;
import io.qsync.lowprec.ops.GemmContext;
import io.qsync.lowprec.ops.LowPrecisionGemm;
import io.qsync.lowprec.quant.Granularity;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.IntRounding;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * CPU side, runs in CI: the ND4J-free reference the GPU harness compares against ({@link CpuReference}) computes the
 * same values as the ND4J CPU emulation ({@link LowPrecisionGemm}), so "GPU = CpuReference" means "GPU = emulation".
 */
class CpuReferenceTest {
    private static final int M = 24;
    private static final int N = 20;
    private static final int K = 36;

    private static float[] randn(Random r, int n, float s) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian() * s;
        }
        return x;
    }

    /** [N,K] row-major → ND4J [K,N]. */
    private static INDArray weightKn(float[] wNk) {
        INDArray w = Nd4j.create(DataType.FLOAT, K, N);
        for (int n = 0; n < N; n++) {
            for (int k = 0; k < K; k++) {
                w.putScalar(k, n, wNk[n * K + k]);
            }
        }
        return w;
    }

    @Test
    void int8ForwardIsBitIdenticalToTheEmulation() {
        Random r = new Random(3);
        for (Granularity g : Granularity.values()) {
            float[] x = randn(r, M * K, 1f);
            float[] w = randn(r, N * K, 0.1f);
            float[] b = randn(r, N, 0.1f);
            // NEAREST/TRUNCATE: no RNG, so the weight layout ([K,N] on the CPU, [N,K] on the GPU) does not matter
            Int8Quantizer q =
                    new Int8Quantizer(g, g == Granularity.PER_CHANNEL ? IntRounding.NEAREST : IntRounding.TRUNCATE, 0L);
            LowPrecisionGemm op = new LowPrecisionGemm(Precision.INT8, q);
            GemmContext ctx = op.prepare(Nd4j.createFromArray(x).reshape(M, K), weightKn(w), 5L);
            INDArray out = Nd4j.create(DataType.FLOAT, M, N);
            op.forward(ctx, Nd4j.createFromArray(b).reshape(1, N), out);
            CpuReference.Quantized qx = CpuReference.int8(x, M, K, false, q, 10L);
            CpuReference.Quantized qw = CpuReference.int8(w, N, K, g == Granularity.PER_CHANNEL, q, 11L);
            float[] ref = CpuReference.int8Forward(qx, qw, M, N, K, b);
            for (int i = 0; i < M; i++) {
                for (int j = 0; j < N; j++) {
                    assertEquals(
                            Float.floatToRawIntBits(ref[i * N + j]),
                            Float.floatToRawIntBits(out.getFloat(i, j)),
                            g + " element " + i + "," + j);
                }
            }
        }
    }

    @Test
    void stochasticCodesMatchTheQuantizerOnTheSameLayout() {
        Random r = new Random(4);
        float[] x = randn(r, M * K, 1f);
        Int8Quantizer q = new Int8Quantizer(Granularity.PER_TENSOR, IntRounding.STOCHASTIC, 99L);
        INDArray codes =
                q.quantizePerTensor(Nd4j.createFromArray(x).reshape(M, K), 7L).codes();
        CpuReference.Quantized ref = CpuReference.int8(x, M, K, false, q, 7L);
        for (int i = 0; i < M * K; i++) {
            assertEquals(codes.getFloat(i / K, i % K), ref.codes()[i], 0f, "element " + i);
        }
    }

    @Test
    void floatForwardMatchesTheEmulation() {
        Random r = new Random(5);
        for (Precision p : new Precision[] {Precision.FP32, Precision.TF32, Precision.FP16, Precision.BF16}) {
            float[] x = randn(r, M * K, 1f);
            float[] w = randn(r, N * K, 0.1f);
            LowPrecisionGemm op = new LowPrecisionGemm(p, Int8Quantizer.QSYNC_DEFAULT);
            GemmContext ctx = op.prepare(Nd4j.createFromArray(x).reshape(M, K), weightKn(w), 0L);
            INDArray out = Nd4j.create(DataType.FLOAT, M, N);
            op.forward(ctx, null, out);
            double[] ref = CpuReference.gemm(CpuReference.round(p, x), CpuReference.round(p, w), M, N, K, false, true);
            float[] got = new float[M * N];
            for (int i = 0; i < M * N; i++) {
                got[i] = out.getFloat(i / N, i % N);
            }
            assertTrue(CpuReference.relErr(got, ref) < 1e-6, p + ": " + CpuReference.relErr(got, ref));
        }
    }
}
