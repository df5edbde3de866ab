package io.qsync.lowprec.cuda;

import static io.qsync.lowprec.train.TensorArrays.get;
import static io.qsync.lowprec.train.TensorArrays.put;
import static io.qsync.lowprec.train.TensorArrays.rel;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.Granularity;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.IntRounding;
import io.qsync.lowprec.train.ConvGeom;
import io.qsync.lowprec.train.Convolution;
import io.qsync.lowprec.train.LowPrecisionLinear;
import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * INT8 convolution layers through {@link CudnnInt8Convolution} against the path it replaces, on the same device:
 * im2col, the INT8 {@link LowPrecisionLinear} (weights in its X role, the transposed columns in its W role, checked bit
 * for bit against the CPU emulation by the op checks) and col2im, as the CUDA engine's ConvStep lowers a layer. The
 * forward output must be bitwise equal; backward data and backward filter (FP16 operands in both paths, FP32 sums in
 * another order) within 1e-4 of max |ref|; two runs bitwise equal. Again with {@code -Dqsync.cuda.halfTensors=true}
 * (set here): backward data then runs on FP16 tensors with an FP16 output (QSync's INT8 backward), within 1e-3, and
 * must say so unless the patch is small. Shapes: the VGG-style CNN's six convolutions, the
 * demo CNN's two (K = 25 padded to 32), strides 1 and 2, paddings 0 to 2, a rectangular kernel. A per-channel or
 * stochastic quantizer and a stride that skips input pixels must get no such convolution. Skipped with a message
 * without a CUDA device or without cuDNN.
 */
class CudnnInt8ConvolutionGpuTest {
    private static final Random RANDOM = new Random(20261207);

    private static ConvGeom geom(int c, int h, int w, int k, int s, int p) {
        return new ConvGeom(c, h, w, k, k, s, s, p, p, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
    }

    /** One case: geometry, batch, output channels. */
    private record Case(ConvGeom g, int batch, int nOut) {
        String name() {
            return batch + "x" + g.c() + "x" + g.h() + "x" + g.w() + " -> " + nOut + " k" + g.kh() + "x" + g.kw() + " s"
                    + g.sh() + " p" + g.padTop();
        }
    }

    private static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        c.add(new Case(geom(1, 28, 28, 3, 1, 1), 8, 64)); // the VGG-style CNN (K = 9 padded to 16)
        c.add(new Case(geom(64, 28, 28, 3, 1, 1), 8, 64));
        c.add(new Case(geom(64, 14, 14, 3, 1, 1), 8, 128));
        c.add(new Case(geom(128, 14, 14, 3, 1, 1), 8, 128));
        c.add(new Case(geom(128, 7, 7, 3, 1, 1), 16, 256));
        c.add(new Case(geom(256, 7, 7, 3, 1, 1), 16, 256));
        c.add(new Case(geom(1, 28, 28, 5, 1, 0), 64, 16)); // the demo CNN
        c.add(new Case(geom(16, 12, 12, 5, 1, 0), 64, 32));
        c.add(new Case(geom(3, 9, 9, 3, 2, 1), 4, 8));
        c.add(new Case(geom(6, 8, 8, 2, 2, 0), 4, 16));
        c.add(new Case(geom(8, 13, 13, 5, 2, 2), 12, 12));
        c.add(new Case(new ConvGeom(3, 12, 10, 3, 5, 2, 1, 1, 2, 6, 10), 4, 5));
        return c;
    }

    private static float[] rnd(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = RANDOM.nextFloat() * 2 - 1;
        }
        return a;
    }

    /** y, dx, dw through im2col + the INT8 GEMM + col2im (the engine's lowered layer). */
    private static float[][] reference(CudaTensorOps ops, Case c, float[] x, float[] w, float[] dy) {
        ConvGeom g = c.g();
        int n = c.batch() * g.outPlane();
        Tensor tx = put(ops, x);
        Tensor tw = put(ops, w);
        Tensor tdy = put(ops, dy);
        Tensor cols = ops.allocate("cols", (long) g.patch() * n);
        Tensor colsT = ops.allocate("colsT", (long) g.patch() * n);
        Tensor yt = ops.allocate("yT", (long) c.nOut() * n);
        Tensor y = ops.allocate("y", (long) c.nOut() * n);
        ops.im2col(tx, g, c.batch(), cols);
        ops.swapAxes(cols, colsT, g.patch(), n, 1);
        try (LowPrecisionLinear lin = ops.lowPrecisionLinear(Precision.INT8, Int8Quantizer.QSYNC_DEFAULT, 0)) {
            lin.forward(tw, colsT, null, c.nOut(), n, g.patch(), yt);
            ops.swapAxes(yt, y, c.nOut(), c.batch(), g.outPlane());
            Tensor dzt = ops.allocate("dzT", (long) c.nOut() * n);
            ops.swapAxes(tdy, dzt, c.batch(), c.nOut(), g.outPlane());
            Tensor dw = ops.allocate("dw", w.length);
            lin.backward(dzt, dw, colsT);
            ops.swapAxes(colsT, cols, n, g.patch(), 1);
            Tensor dx = ops.allocate("dx", x.length);
            ops.col2im(cols, g, c.batch(), dx);
            return new float[][] {get(ops, y), get(ops, dx), get(ops, dw)};
        }
    }

    private static float[][] run(TensorOps ops, Convolution conv, Case c, float[] x, float[] w, float[] dy) {
        Tensor ty = ops.allocate("y", (long) c.batch() * c.nOut() * c.g().outPlane());
        Tensor tdx = ops.allocate("dx", x.length);
        Tensor tdw = ops.allocate("dw", w.length);
        ops.fill(ty, Float.NaN); // every output element must be written
        ops.fill(tdx, Float.NaN);
        ops.fill(tdw, Float.NaN);
        conv.forward(put(ops, x), put(ops, w), ty);
        conv.backward(put(ops, dy), tdx, tdw);
        return new float[][] {get(ops, ty), get(ops, tdx), get(ops, tdw)};
    }

    private static void needsCudaAndCudnn() {
        String why = CudaPresence.whyUnavailable();
        Assumptions.assumeTrue(why == null, () -> "CudnnInt8ConvolutionGpuTest skipped: " + why);
        String noCudnn = CudnnPresence.whyUnavailable();
        Assumptions.assumeTrue(noCudnn == null, () -> "CudnnInt8ConvolutionGpuTest skipped: " + noCudnn);
    }

    @Test
    void forwardIsBitwiseTheGemmPathAndBackwardAgrees() {
        needsCudaAndCudnn();
        List<String> failed = new ArrayList<>();
        StringBuilder table = new StringBuilder(
                "case | fwd bitwise | bwd-data max|Δ|/max|ref| | bwd-filter | two runs bitwise | path\n");
        assertTimeoutPreemptively(Duration.ofMinutes(4), () -> {
            try (CudaTensorOps ops = CudaTensorOps.open(0, false, true)) {
                for (boolean halfTensors : new boolean[] {false, true}) {
                    // both arms set: unset, a card without TF32 tensor cores (the T4) takes half tensors
                    System.setProperty("qsync.cuda.halfTensors", String.valueOf(halfTensors));
                    try {
                        cases(ops, halfTensors, failed, table);
                    } finally {
                        System.clearProperty("qsync.cuda.halfTensors");
                    }
                }
            }
        });
        System.out.println(table);
        assertTrue(failed.isEmpty(), () -> failed.size() + " INT8 convolutions differ: " + failed);
    }

    private static void cases(CudaTensorOps ops, boolean halfTensors, List<String> failed, StringBuilder table) {
        for (Case c : cases()) {
            String name = (halfTensors ? "INT8 (FP16 tensors) " : "INT8 ") + c.name();
            try {
                float[] x = rnd(c.batch() * c.g().c() * c.g().inPlane());
                float[] w = rnd(c.nOut() * c.g().patch());
                float[] dy = rnd(c.batch() * c.nOut() * c.g().outPlane());
                float[][] want = reference(ops, c, x, w, dy);
                Convolution conv =
                        ops.directConvolution(c.g(), c.batch(), c.nOut(), Precision.INT8, Int8Quantizer.QSYNC_DEFAULT);
                if (conv == null) {
                    failed.add(name + ": none offered (" + ops.directConvolutionState() + ")");
                    continue;
                }
                float[][] got = run(ops, conv, c, x, w, dy);
                float[][] again = run(ops, conv, c, x, w, dy);
                boolean fwd = Arrays.equals(want[0], got[0]);
                double data = rel(want[1], got[1]);
                double filter = rel(want[2], got[2]);
                boolean same = Arrays.equals(got[0], again[0])
                        && Arrays.equals(got[1], again[1])
                        && Arrays.equals(got[2], again[2]);
                boolean path =
                        conv.describe().contains("FP16 tensors") == (halfTensors && !SmallPatchKernels.applies(c.g()));
                boolean ok = fwd && data <= (halfTensors ? 1e-3 : 1e-4) && filter <= 1e-4 && same && path;
                if (!ok) {
                    failed.add(String.format(
                            "%s: fwd bitwise %s (max|Δ|/max|ref| %.3g) bwd-data %.3g bwd-filter %.3g runs %s path"
                                    + " %s",
                            name, fwd, rel(want[0], got[0]), data, filter, same, path));
                }
                table.append(String.format(
                        "%s | %s | %.3g | %.3g | %s | %s%n", name, fwd, data, filter, same, conv.describe()));
            } catch (RuntimeException e) {
                failed.add(name + ": " + e);
                table.append(name).append(" | ERROR ").append(e).append('\n');
            }
        }
    }

    @Test
    void quantizersAndGeometriesItCannotMatchKeepTheGemmPath() {
        needsCudaAndCudnn();
        ConvGeom plain = geom(2, 8, 8, 3, 1, 1);
        ConvGeom skips = geom(2, 9, 9, 1, 2, 0); // 1x1 kernel, stride 2: odd rows and columns are never read
        assertTimeoutPreemptively(Duration.ofMinutes(2), () -> {
            try (CudaTensorOps ops = CudaTensorOps.open(0, false, true)) {
                Int8Quantizer perChannel = new Int8Quantizer(Granularity.PER_CHANNEL, IntRounding.TRUNCATE, 0L);
                Int8Quantizer stochastic = new Int8Quantizer(Granularity.PER_TENSOR, IntRounding.STOCHASTIC, 3L);
                assertNull(ops.directConvolution(plain, 4, 3, Precision.INT8, perChannel));
                assertNull(ops.directConvolution(plain, 4, 3, Precision.INT8, stochastic));
                assertNull(ops.directConvolution(skips, 4, 3, Precision.INT8, Int8Quantizer.QSYNC_DEFAULT));
                String state = ops.directConvolutionState();
                assertTrue(state.contains("per-channel") && state.contains("stochastic"), state);
                assertTrue(state.contains("leave input pixels out"), state);
                Convolution c = ops.directConvolution(plain, 4, 3, Precision.INT8, Int8Quantizer.QSYNC_DEFAULT);
                assertNotNull(c, state);
                assertTrue(c.describe().startsWith("INT8 codes"), c.describe());
                assertFalse(CudnnInt8Convolution.coversInput(skips));
            }
        });
    }
}
