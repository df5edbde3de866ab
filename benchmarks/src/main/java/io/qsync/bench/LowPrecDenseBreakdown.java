package io.qsync.bench;

import io.qsync.lowprec.ArrayAllocator;
import io.qsync.lowprec.ArrayRounding;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.ops.GemmContext;
import io.qsync.lowprec.ops.LowPrecisionGemm;
import io.qsync.lowprec.quant.Int8Quantizer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Profiler-free breakdown of the INT8 dense 1024→1024, batch 64 forward+backward: each sub-step of
 * {@link LowPrecisionGemm} timed on its own, round-robin, medians. Scratch harness for finding where
 * INT8 loses against FP32.
 *
 * <p>Usage: {@code LowPrecDenseBreakdown [rounds=30]}
 */
public final class LowPrecDenseBreakdown {
    private LowPrecDenseBreakdown() {}

    /** @param args optional rounds */
    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.randn(DataType.FLOAT, 64, 1024);
        INDArray w = Nd4j.randn(DataType.FLOAT, 1024, 1024).muli(0.03);
        INDArray b = Nd4j.randn(DataType.FLOAT, 1, 1024);
        INDArray dz = Nd4j.randn(DataType.FLOAT, 64, 1024);
        INDArray out = Nd4j.create(DataType.FLOAT, 64, 1024);
        INDArray dx = Nd4j.create(DataType.FLOAT, new long[] {64, 1024}, 'f');
        INDArray dw = Nd4j.create(DataType.FLOAT, new long[] {1024, 1024}, 'f');
        INDArray db = Nd4j.create(DataType.FLOAT, 1, 1024);
        ArrayAllocator pool = ArrayAllocator.pooled();
        LowPrecisionGemm op = new LowPrecisionGemm(Precision.INT8, Int8Quantizer.QSYNC_DEFAULT, pool);
        GemmContext[] ctx = {op.prepare(x, w, 0)};
        LowPrecisionGemm.BackwardOperand[] bw = {op.backwardOperand(ctx[0].w(), "wb")};
        Map<String, Runnable> steps = new LinkedHashMap<>();
        steps.put("fp32 gemm X.W", () -> Nd4j.gemm(x, w, out, false, false, 1.0, 0.0));
        steps.put(
                "fp32 gemm codes",
                () -> Nd4j.gemm(ctx[0].x().codes(), ctx[0].w().codes(), out, false, false, 1.0, 0.0));
        steps.put("out.muli", () -> out.muli(1.0001f));
        steps.put("out.addiRowVector", () -> out.addiRowVector(b));
        steps.put("fp32 gemm dX (g.W^T)", () -> Nd4j.gemm(dz, w, dx, false, true, 1.0, 0.0));
        steps.put("fp32 gemm dW (X^T.g)", () -> Nd4j.gemm(x, dz, dw, true, false, 1.0, 0.0));
        steps.put("gemm dX fp16 W", () -> Nd4j.gemm(dz, bw[0].values(), dx, false, true, 1.0, 0.0));
        steps.put("amax W", () -> ArrayRounding.amax(w));
        steps.put("quantize W (amax+codes)", () -> op.prepareWeight(w, 1, 0));
        steps.put("quantize X", () -> op.prepareInput(x, 0));
        steps.put("prepare (X,W)", () -> ctx[0] = op.prepare(x, w, 0));
        steps.put("prepare fused (X,W + FP16 copies)", () -> op.prepare(x, w, 0, true));
        steps.put("int8 forward gemm+scale+bias", () -> op.forward(ctx[0], b, out));
        steps.put("int8 forward no bias", () -> op.forward(ctx[0], null, out));
        steps.put("b.reshape.toFloatVector", () -> b.reshape(1024).toFloatVector());
        steps.put("fp16 deq W (backwardOperand)", () -> bw[0] = op.backwardOperand(ctx[0].w(), "wb"));
        steps.put("fp16 deq X", () -> op.backwardOperand(ctx[0].x(), "xb"));
        steps.put("fp16 round dZ", () -> op.gradientOperand(dz));
        steps.put("backward total", () -> op.backward(ctx[0], dz, dx, dw, db));
        steps.put("fp32 backward (2 gemm+db)", () -> new LowPrecisionGemm(
                        Precision.FP32, Int8Quantizer.QSYNC_DEFAULT, pool)
                .backward(new GemmContext(Precision.FP32, op.prepareInput(x, 0), ctx[0].w(), 0), dz, dx, dw, db));
        String[] names = steps.keySet().toArray(new String[0]);
        double[][] t = new double[names.length][rounds];
        for (int r = -5; r < rounds; r++) {
            for (int i = 0; i < names.length; i++) {
                long t0 = System.nanoTime();
                steps.get(names[i]).run();
                long t1 = System.nanoTime();
                if (r >= 0) {
                    t[i][r] = (t1 - t0) / 1e6;
                }
            }
        }
        for (int i = 0; i < names.length; i++) {
            double[] c = t[i].clone();
            Arrays.sort(c);
            System.out.printf("%-32s %8.3f ms%n", names[i], c[c.length / 2]);
        }
    }
}
