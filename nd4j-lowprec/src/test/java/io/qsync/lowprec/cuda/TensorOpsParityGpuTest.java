package io.qsync.lowprec.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.train.Act;
import io.qsync.lowprec.train.ConvGeom;
import io.qsync.lowprec.train.HostOps;
import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Every {@link TensorOps} method of {@link CudaTensorOps} against the Java reference {@link HostOps} on fresh random
 * inputs: each case fills its tensors identically on both, runs the op on both, and compares every tensor afterwards
 * (max |Δ| / max |ref|). All cases run even when some fail, so one GPU run names every broken op. Skipped without a
 * CUDA device.
 */
class TensorOpsParityGpuTest {
    private static final Random RANDOM = new Random(20261205);

    /** One op: its tensors' initial contents and what it does to them. */
    private record Case(String name, double tol, float[][] init, BiConsumer<TensorOps, Tensor[]> op) {}

    private static float[] rnd(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = RANDOM.nextFloat() * 2 - 1;
        }
        return a;
    }

    private static float[] pos(int n) {
        float[] a = rnd(n);
        for (int i = 0; i < n; i++) {
            a[i] = Math.abs(a[i]) + 0.05f;
        }
        return a;
    }

    private static float[] oneHot(int rows, int cols) {
        float[] a = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            a[r * cols + RANDOM.nextInt(cols)] = 1;
        }
        return a;
    }

    private static float[][] of(float[]... a) {
        return a;
    }

    private static List<Case> cases() {
        List<Case> cs = new ArrayList<>();
        cs.add(new Case("fill", 0, of(rnd(1000)), (o, t) -> o.fill(t[0], 0.25f)));
        cs.add(new Case("copy", 0, of(rnd(999), rnd(999)), (o, t) -> o.copy(t[0], t[1])));
        cs.add(new Case("slice+fill+copy", 0, of(rnd(500), rnd(100)), (o, t) -> {
            o.fill(o.slice(t[0], 123, 77), -3f);
            o.copy(o.slice(t[0], 300, 100), t[1]);
        }));
        int m = 37, n = 29, k = 41;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                cs.add(new Case(
                        "gemm ta=" + ta + " tb=" + tb,
                        1e-5,
                        of(rnd(m * k), rnd(k * n), rnd(m * n)),
                        (o, t) -> o.gemm(ta, tb, m, n, k, 1f, t[0], t[1], 0f, t[2])));
            }
        }
        cs.add(new Case(
                "gemm on slices",
                1e-5,
                of(rnd(m * k + 64), rnd(k * n + 32), rnd(m * n + 16)),
                (o, t) -> o.gemm(
                        false,
                        true,
                        m,
                        n,
                        k,
                        1f,
                        o.slice(t[0], 64, m * k),
                        o.slice(t[1], 32, k * n),
                        0f,
                        o.slice(t[2], 16, m * n))));
        cs.add(new Case("addBias", 1e-6, of(rnd(3 * 5 * 7), rnd(5)), (o, t) -> o.addBias(t[0], t[1], 3, 5, 7)));
        cs.add(new Case("sumBias", 1e-5, of(rnd(3 * 5 * 7), rnd(5)), (o, t) -> o.sumBias(t[0], t[1], 3, 5, 7)));
        // the two-stage sum with uneven splits (37 rows in 13 parts of 3), a dense layer's (inner 1), and channels
        // beyond the parts' scratch (one block per channel)
        for (int[] d : new int[][] {{37, 64, 49}, {100, 600, 1}, {2, 40_000, 1}}) {
            cs.add(new Case(
                    "sumBias " + d[0] + "x" + d[1] + "x" + d[2],
                    1e-5,
                    of(rnd(d[0] * d[1] * d[2]), rnd(d[1])),
                    (o, t) -> o.sumBias(t[0], t[1], d[0], d[1], d[2])));
        }
        cs.add(new Case(
                "addBias 37x64x49", 1e-6, of(rnd(37 * 64 * 49), rnd(64)), (o, t) -> o.addBias(t[0], t[1], 37, 64, 49)));
        for (Act a : Act.values()) {
            cs.add(new Case("activate " + a, 1e-6, of(rnd(777), rnd(777)), (o, t) -> o.activate(a, 0.01, t[0], t[1])));
            cs.add(new Case(
                    "activateBackward " + a,
                    1e-6,
                    of(rnd(777), rnd(777), rnd(777)),
                    (o, t) -> o.activateBackward(a, 0.01, t[0], t[1], t[2])));
        }
        // the fused bias + activation ops: two-stage sums (37x64x49) and one block per channel (2x40000x1)
        for (int[] d : new int[][] {{37, 64, 49}, {2, 40_000, 1}}) {
            int len = d[0] * d[1] * d[2];
            String ds = " " + d[0] + "x" + d[1] + "x" + d[2];
            for (Act a : new Act[] {Act.RELU, Act.LEAKYRELU, Act.TANH, Act.SIGMOID}) {
                cs.add(new Case(
                        "addBiasActivate " + a + ds,
                        1e-6,
                        of(rnd(len), rnd(d[1]), rnd(len)),
                        (o, t) -> o.addBiasActivate(a, 0.01, t[0], t[1], d[0], d[1], d[2], t[2])));
                cs.add(new Case(
                        "activateBackwardSumBias " + a + ds,
                        1e-5,
                        of(rnd(len), rnd(len), rnd(len), rnd(d[1])),
                        (o, t) -> o.activateBackwardSumBias(a, 0.01, t[0], t[1], t[2], t[3], d[0], d[1], d[2])));
            }
        }
        int batch = 3;
        for (ConvGeom g : new ConvGeom[] {
            new ConvGeom(2, 7, 7, 3, 3, 2, 2, 1, 1, 4, 4),
            new ConvGeom(3, 8, 6, 3, 3, 1, 1, 1, 1, 8, 6),
            new ConvGeom(2, 9, 9, 5, 5, 1, 1, 0, 0, 5, 5),
            // pooling windows that tile the plane (the VGG-style CNN's 2x2 pools): exactly, with an uncovered last row
            // and column, and 3x3
            new ConvGeom(3, 8, 8, 2, 2, 2, 2, 0, 0, 4, 4),
            new ConvGeom(2, 7, 7, 2, 2, 2, 2, 0, 0, 3, 3),
            new ConvGeom(2, 8, 7, 3, 3, 3, 3, 0, 0, 2, 2)
        }) {
            int in = batch * g.c() * g.inPlane();
            int cols = g.patch() * batch * g.outPlane();
            String gs = " " + g.c() + "x" + g.h() + "x" + g.w() + " k" + g.kh() + " s" + g.sh() + " p" + g.padTop();
            cs.add(new Case("im2col" + gs, 0, of(rnd(in), rnd(cols)), (o, t) -> o.im2col(t[0], g, batch, t[1])));
            cs.add(new Case("col2im" + gs, 1e-6, of(rnd(cols), rnd(in)), (o, t) -> o.col2im(t[0], g, batch, t[1])));
            int planes = batch * g.c();
            int out = planes * g.outPlane();
            for (boolean max : new boolean[] {true, false}) {
                cs.add(new Case(
                        "pool max=" + max + gs,
                        1e-6,
                        of(rnd(in), rnd(out)),
                        (o, t) -> o.pool(max, t[0], g, planes, t[1])));
                cs.add(new Case(
                        "poolBackward max=" + max + gs,
                        1e-6,
                        of(rnd(in), rnd(out), rnd(in)),
                        (o, t) -> o.poolBackward(max, t[0], t[1], g, planes, t[2])));
            }
        }
        cs.add(new Case("swapAxes", 0, of(rnd(4 * 6 * 5), rnd(4 * 6 * 5)), (o, t) -> o.swapAxes(t[0], t[1], 4, 6, 5)));
        // inner 1 is a plain (tiled) transpose: edges of partial tiles, and more tiles than blocks
        cs.add(new Case(
                "transpose 37x70", 0, of(rnd(37 * 70), rnd(37 * 70)), (o, t) -> o.swapAxes(t[0], t[1], 37, 70, 1)));
        cs.add(new Case(
                "transpose 3000x577",
                0,
                of(rnd(3000 * 577), rnd(3000 * 577)),
                (o, t) -> o.swapAxes(t[0], t[1], 3000, 577, 1)));
        for (boolean max : new boolean[] {true, false}) {
            cs.add(new Case(
                    "globalPool max=" + max,
                    1e-6,
                    of(rnd(6 * 49), rnd(6)),
                    (o, t) -> o.globalPool(max, t[0], 6, 49, t[1])));
            cs.add(new Case(
                    "globalPoolBackward max=" + max,
                    1e-6,
                    of(rnd(6 * 49), rnd(6), rnd(6 * 49)),
                    (o, t) -> o.globalPoolBackward(max, t[0], t[1], 6, 49, t[2])));
        }
        int bn = 5, bc = 4, bi = 9;
        int bx = bn * bc * bi;
        cs.add(new Case(
                "bnStats", 1e-5, of(rnd(bx), rnd(bc), rnd(bc)), (o, t) -> o.bnStats(t[0], bn, bc, bi, t[1], t[2])));
        cs.add(new Case(
                "bnForward",
                1e-5,
                of(rnd(bx), rnd(bc), pos(bc), rnd(bc), rnd(bc), rnd(bx)),
                (o, t) -> o.bnForward(t[0], t[1], t[2], 1e-5, t[3], t[4], bn, bc, bi, t[5])));
        cs.add(new Case(
                "bnBackward",
                1e-5,
                of(rnd(bx), rnd(bx), rnd(bc), pos(bc), rnd(bc), rnd(bx), rnd(bc), rnd(bc)),
                (o, t) -> o.bnBackward(t[0], t[1], t[2], t[3], 1e-5, t[4], bn, bc, bi, t[5], t[6], t[7])));
        for (boolean log : new boolean[] {false, true}) {
            cs.add(new Case(
                    "bnRunningDelta log10Std=" + log,
                    1e-5,
                    of(rnd(bc), log ? rnd(bc) : pos(bc), rnd(bc), pos(bc), rnd(bc), rnd(bc)),
                    (o, t) -> o.bnRunningDelta(t[0], t[1], t[2], t[3], 0.9, log, bc, t[4], t[5])));
        }
        cs.add(new Case("bnVarFromLog10Std", 1e-6, of(rnd(bc), rnd(bc)), (o, t) -> o.bnVarFromLog10Std(t[0], t[1])));
        int rows = 33, cls = 10;
        cs.add(new Case(
                "softmaxCrossEntropy",
                1e-5,
                of(rnd(rows * cls), oneHot(rows, cls), rnd(rows * cls), rnd(rows * cls), rnd(1)),
                (o, t) -> o.softmaxCrossEntropy(t[0], t[1], rows, cls, t[2], t[3], t[4])));
        cs.add(new Case(
                "softmax", 1e-6, of(rnd(rows * cls), rnd(rows * cls)), (o, t) -> o.softmax(t[0], rows, cls, t[1])));
        cs.add(new Case(
                "mse",
                1e-5,
                of(rnd(rows * cls), rnd(rows * cls), rnd(rows * cls), rnd(1)),
                (o, t) -> o.mse(t[0], t[1], rows, cls, t[2], t[3])));
        cs.add(new Case("add", 0, of(rnd(300), rnd(300), rnd(300)), (o, t) -> o.add(t[0], t[1], t[2])));
        for (boolean acc : new boolean[] {false, true}) {
            cs.add(new Case(
                    "copyBlocks accumulate=" + acc,
                    0,
                    of(rnd(4 * 20), rnd(4 * 30)),
                    (o, t) -> o.copyBlocks(t[0], 20, 3, t[1], 30, 7, 4, 11, acc)));
        }
        cs.add(new Case("scale", 0, of(rnd(300)), (o, t) -> o.scale(t[0], 0.37f)));
        cs.add(new Case("axpy", 1e-7, of(rnd(300), rnd(300)), (o, t) -> o.axpy(0.37f, t[0], t[1])));
        cs.add(new Case("axpySign", 1e-7, of(rnd(300), rnd(300)), (o, t) -> o.axpySign(0.37f, t[0], t[1])));
        cs.add(new Case("sumSquares", 1e-6, of(rnd(5000), rnd(1)), (o, t) -> o.sumSquares(t[0], t[1])));
        for (boolean clip : new boolean[] {false, true}) {
            cs.add(new Case(
                    "normScale clip=" + clip,
                    1e-6,
                    of(rnd(300), new float[] {clip ? 40f : 9f}),
                    (o, t) -> o.normScale(t[0], t[1], 2.0, clip)));
        }
        cs.add(new Case("clip", 0, of(rnd(300)), (o, t) -> o.clip(t[0], 0.5f)));
        cs.add(new Case(
                "adam",
                1e-6,
                of(rnd(300), rnd(300), pos(300)),
                (o, t) -> o.adam(t[0], t[1], t[2], 1e-3, 0.9, 0.999, 1e-8, 3)));
        cs.add(new Case("nesterovs", 1e-6, of(rnd(300), rnd(300)), (o, t) -> o.nesterovs(t[0], t[1], 0.05, 0.9)));
        return cs;
    }

    private static float[][] runOn(TensorOps ops, Case c, boolean directHost) {
        Tensor[] ts = new Tensor[c.init().length];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = ops.allocate(c.name() + "#" + i, c.init()[i].length);
            FloatBuffer src =
                    directHost ? ops.hostBuffer("in", c.init()[i].length) : FloatBuffer.allocate(c.init()[i].length);
            src.put(c.init()[i]).flip();
            ops.upload(src, ts[i]);
        }
        c.op().accept(ops, ts);
        ops.synchronize();
        float[][] out = new float[ts.length][];
        for (int i = 0; i < ts.length; i++) {
            FloatBuffer dst =
                    directHost ? ops.hostBuffer("out", c.init()[i].length) : FloatBuffer.allocate(c.init()[i].length);
            ops.download(ts[i], dst);
            out[i] = new float[c.init()[i].length];
            dst.duplicate().get(out[i]);
        }
        return out;
    }

    private static double rel(float[][] ref, float[][] got) {
        double maxRef = 1e-30, maxDiff = 0;
        for (int i = 0; i < ref.length; i++) {
            for (int j = 0; j < ref[i].length; j++) {
                maxRef = Math.max(maxRef, Math.abs(ref[i][j]));
                double d = Math.abs((double) ref[i][j] - got[i][j]);
                maxDiff = Double.isNaN(got[i][j]) ? Double.POSITIVE_INFINITY : Math.max(maxDiff, d);
            }
        }
        return maxDiff / maxRef;
    }

    @Test
    void everyTensorOpMatchesTheJavaReference() {
        String why = CudaPresence.whyUnavailable();
        Assumptions.assumeTrue(why == null, () -> "TensorOpsParityGpuTest skipped: " + why);
        List<String> failed = new ArrayList<>();
        StringBuilder table = new StringBuilder("op | max|Δ|/max|ref| | tolerance | verdict\n");
        try (HostOps host = new HostOps();
                CudaTensorOps cuda = CudaTensorOps.open(0, false)) {
            int i = 0;
            for (Case c : cases()) {
                String verdict;
                double err = Double.NaN;
                try {
                    float[][] ref = runOn(host, c, false);
                    float[][] got = runOn(cuda, c, (i++ & 1) == 1);
                    err = rel(ref, got);
                    verdict = err <= c.tol() ? "ok" : "FAIL";
                } catch (RuntimeException e) {
                    verdict = "ERROR " + e;
                }
                if (!verdict.equals("ok")) {
                    failed.add(c.name() + ": " + verdict + " (" + err + ")");
                }
                table.append(String.format("%s | %.3g | %.0g | %s%n", c.name(), err, c.tol(), verdict));
            }
        }
        System.out.println(table);
        assertTrue(failed.isEmpty(), () -> failed.size() + " ops differ from the Java reference: " + failed);
    }
}
