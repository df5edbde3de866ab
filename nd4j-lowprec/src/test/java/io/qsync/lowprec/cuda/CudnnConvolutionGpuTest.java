package io.qsync.lowprec.cuda;

import static io.qsync.lowprec.train.TensorArrays.get;
import static io.qsync.lowprec.train.TensorArrays.put;
import static io.qsync.lowprec.train.TensorArrays.rel;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.FloatRounding;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.train.ConvGeom;
import io.qsync.lowprec.train.Convolution;
import io.qsync.lowprec.train.Im2colConvolution;
import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * cuDNN convolutions ({@link CudaTensorOps#directConvolution}) against im2col + GEMM ({@link Im2colConvolution}) on the
 * same device: forward, backward data and backward filter for the VGG-style CNN's layers and for strides 1 and 2,
 * paddings 0, 1 and 2 and a rectangular kernel, batches 4 to 64; layers with patches of at most 9 values run our {@link
 * SmallPatchKernels} for forward and backward filter, and the test checks that they did. FP32 (FMA units) against the
 * FP32 im2col path within 1e-5 (max |Δ| / max |ref|); TF32 (an FP32 layer on a TF32 engine, and a TF32 layer on an FP32
 * engine) against the TF32 im2col path fed the same RNE-rounded operands within 1e-3; FP16 and BF16 layers (operands
 * rounded to the format, on TF32 tensor cores) fed operands that already are FP16/BF16 values against the FP32 im2col
 * path within 1e-4 (their products are exact in FP32, so only the summation order differs). With {@code
 * -Dqsync.cuda.halfTensors=true} and {@code =nhwc} (set here for two arms each), FP16 and BF16 layers whose patch is
 * not small must run forward and backward data on half-size tensors, whose outputs are rounded to the format: within
 * one rounding of the format (1e-3 for FP16, 8e-3 for BF16) there, the filter gradient still within 1e-4. Two runs of
 * each cuDNN convolution must agree bit for bit. All cases run even when some fail; the table is printed, the assertion
 * comes last. Skipped with a message without a CUDA device or without cuDNN on the library path.
 */
class CudnnConvolutionGpuTest {
    private static final Random RANDOM = new Random(20261206);

    /** One convolution shape. */
    private record Shape(ConvGeom g, int batch, int nOut) {
        static Shape of(int c, int h, int w, int k, int s, int p, int batch, int nOut) {
            int oh = (h + 2 * p - k) / s + 1;
            int ow = (w + 2 * p - k) / s + 1;
            return new Shape(new ConvGeom(c, h, w, k, k, s, s, p, p, oh, ow), batch, nOut);
        }

        String name() {
            return batch + "x" + g.c() + "x" + g.h() + "x" + g.w() + " -> " + nOut + " k" + g.kh() + "x" + g.kw() + " s"
                    + g.sh() + " p" + g.padTop();
        }

        int x() {
            return batch * g.c() * g.inPlane();
        }

        int y() {
            return batch * nOut * g.outPlane();
        }

        int w() {
            return nOut * g.patch();
        }
    }

    private static List<Shape> shapes() {
        List<Shape> s = new ArrayList<>();
        s.add(Shape.of(1, 28, 28, 3, 1, 1, 8, 64)); // the VGG-style CNN's six convolutions
        s.add(Shape.of(64, 28, 28, 3, 1, 1, 8, 64));
        s.add(Shape.of(64, 14, 14, 3, 1, 1, 8, 128));
        s.add(Shape.of(128, 14, 14, 3, 1, 1, 8, 128));
        s.add(Shape.of(128, 7, 7, 3, 1, 1, 16, 256));
        s.add(Shape.of(256, 7, 7, 3, 1, 1, 16, 256));
        s.add(Shape.of(3, 9, 9, 3, 2, 1, 4, 8)); // stride 2, pad 1
        s.add(Shape.of(4, 10, 10, 3, 1, 0, 5, 6)); // pad 0
        s.add(Shape.of(5, 11, 11, 5, 1, 2, 6, 7)); // pad 2
        s.add(Shape.of(6, 8, 8, 2, 2, 0, 4, 16)); // stride 2, pad 0
        s.add(Shape.of(8, 13, 13, 5, 2, 2, 12, 12)); // stride 2, pad 2
        s.add(new Shape(new ConvGeom(3, 12, 10, 3, 5, 2, 1, 1, 2, 6, 10), 4, 5)); // rectangular kernel and stride
        s.add(Shape.of(1, 28, 28, 5, 1, 0, 64, 16)); // the demo CNN's two convolutions at its test batch
        s.add(Shape.of(16, 12, 12, 5, 1, 0, 64, 32));
        // small patches (SmallPatchKernels): stride 2 and padding, 2 channels, output channels not a multiple of the
        // kernel's 4 per block; an uneven split of 37 images
        s.add(Shape.of(1, 9, 9, 3, 2, 1, 6, 5));
        s.add(Shape.of(2, 9, 9, 2, 2, 1, 6, 7));
        s.add(Shape.of(1, 12, 12, 3, 1, 1, 37, 64));
        return s;
    }

    /** Uniform in [-1, 1), rounded to {@code p} (TF32, FP16, BF16) unless null. */
    private static float[] rnd(int n, Precision p) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = RANDOM.nextFloat() * 2 - 1;
            a[i] = p == null ? a[i] : FloatRounding.round(p, a[i]);
        }
        return a;
    }

    /** y, dx, dw of one forward and backward on {@code ops}. */
    private static float[][] run(TensorOps ops, Convolution conv, Shape s, float[] x, float[] w, float[] dy) {
        Tensor tx = put(ops, x);
        Tensor tw = put(ops, w);
        Tensor tdy = put(ops, dy);
        Tensor ty = ops.allocate("y", s.y());
        Tensor tdx = ops.allocate("dx", s.x());
        Tensor tdw = ops.allocate("dw", s.w());
        ops.fill(ty, Float.NaN); // every output element must be written
        ops.fill(tdx, Float.NaN);
        ops.fill(tdw, Float.NaN);
        conv.forward(tx, tw, ty);
        conv.backward(tdy, tdx, tdw);
        return new float[][] {get(ops, ty), get(ops, tdx), get(ops, tdw)};
    }

    private static boolean bitwise(float[][] a, float[][] b) {
        for (int i = 0; i < a.length; i++) {
            if (!java.util.Arrays.equals(a[i], b[i])) {
                return false;
            }
        }
        return true;
    }

    private static Im2colConvolution.Scratch scratch(TensorOps ops) {
        Map<String, Tensor> kept = new HashMap<>();
        return (key, length) -> {
            Tensor t = kept.get(key);
            if (t == null || t.length() < length) {
                t = ops.allocate(key, length);
                kept.put(key, t);
            }
            return ops.slice(t, 0, length);
        };
    }

    /** One arm: cuDNN on {@code ops} at layer precision {@code p} against im2col on {@code refOps}. */
    private static void arm(
            String arm,
            CudaTensorOps ops,
            Precision p,
            CudaTensorOps refOps,
            double tol,
            double outTol,
            Precision inputs,
            StringBuilder table,
            List<String> failed) {
        for (Shape s : shapes()) {
            String name = arm + " " + s.name();
            try {
                float[] x = rnd(s.x(), inputs);
                float[] w = rnd(s.w(), inputs);
                float[] dy = rnd(s.y(), inputs);
                Convolution ref = new Im2colConvolution(refOps, s.g(), s.batch(), s.nOut(), scratch(refOps));
                float[][] want = run(refOps, ref, s, x, w, dy);
                Convolution conv = ops.directConvolution(s.g(), s.batch(), s.nOut(), p);
                if (conv == null) {
                    failed.add(name + ": no cuDNN convolution (" + ops.directConvolutionState() + ")");
                    table.append(name).append(" | - | - | - | - | NONE\n");
                    continue;
                }
                float[][] got = run(ops, conv, s, x, w, dy);
                float[][] again = run(ops, conv, s, x, w, dy);
                double[] e = {rel(want[0], got[0]), rel(want[1], got[1]), rel(want[2], got[2])};
                boolean same = bitwise(got, again);
                // small patches must take our kernels (unless -Dqsync.cuda.smallPatch=false), others cuDNN's
                boolean smallPatch = CudnnConvolutions.smallPatchOn() && SmallPatchKernels.applies(s.g());
                boolean path = conv.describe().contains("small patch") == smallPatch
                        && conv.describe().contains(p + " tensors")
                                == (CudnnConvolutions.halfTensorsOn(ops.whyCannotRun(Precision.TF32) == null)
                                        && !smallPatch)
                        && conv.describe().contains(" NHWC") == (arm.endsWith("NHWC") && !smallPatch);
                boolean ok = e[0] <= outTol && e[1] <= outTol && e[2] <= tol && same && path;
                if (!ok) {
                    failed.add(name
                            + String.format(
                                    ": fwd %.3g bwd-data %.3g bwd-filter %.3g bitwise %s path %s (%s)",
                                    e[0], e[1], e[2], same, path, conv.describe()));
                }
                table.append(String.format(
                        "%s | %.3g | %.3g | %.3g | %s | %s | %s%n",
                        name, e[0], e[1], e[2], same, ok ? "ok" : "FAIL", conv.describe()));
            } catch (RuntimeException e) {
                failed.add(name + ": " + e);
                table.append(name).append(" | ERROR ").append(e).append('\n');
            }
        }
    }

    @Test
    void cudnnMatchesIm2colAndRepeatsBitForBit() {
        String why = CudaPresence.whyUnavailable();
        Assumptions.assumeTrue(why == null, () -> "CudnnConvolutionGpuTest skipped: " + why);
        String noCudnn = CudnnPresence.whyUnavailable();
        Assumptions.assumeTrue(noCudnn == null, () -> "CudnnConvolutionGpuTest skipped: " + noCudnn);
        List<String> failed = new ArrayList<>();
        StringBuilder table = new StringBuilder(
                "case | fwd max|Δ|/max|ref| | bwd-data | bwd-filter | two runs bitwise | verdict | cuDNN path\n");
        assertTimeoutPreemptively(Duration.ofMinutes(5), () -> {
            try (CudaTensorOps fp32 = CudaTensorOps.open(0, false, true);
                    CudaTensorOps tf32 = CudaTensorOps.open(0, true, true)) {
                arm("FP32", fp32, Precision.FP32, fp32, 1e-5, 1e-5, null, table, failed);
                arm("TF32 engine", tf32, Precision.FP32, tf32, 1e-3, 1e-3, Precision.TF32, table, failed);
                arm("TF32 layer", fp32, Precision.TF32, tf32, 1e-3, 1e-3, Precision.TF32, table, failed);
                String before = System.getProperty("qsync.cuda.halfTensors");
                try {
                    // operands already FP16/BF16 values: the layer's arithmetic is then FP32's on them (exact
                    // products, FP32 sums), which the FP32 im2col path computes (set: a T4 defaults to half tensors)
                    System.setProperty("qsync.cuda.halfTensors", "false");
                    arm("FP16 layer", fp32, Precision.FP16, fp32, 1e-4, 1e-4, Precision.FP16, table, failed);
                    arm("BF16 layer", fp32, Precision.BF16, fp32, 1e-4, 1e-4, Precision.BF16, table, failed);
                    System.setProperty("qsync.cuda.halfTensors", "true");
                    arm("FP16 tensors", fp32, Precision.FP16, fp32, 1e-4, 1e-3, Precision.FP16, table, failed);
                    arm("BF16 tensors", fp32, Precision.BF16, fp32, 1e-4, 8e-3, Precision.BF16, table, failed);
                    System.setProperty("qsync.cuda.halfTensors", "nhwc"); // the casts transpose: same values
                    arm("FP16 NHWC", fp32, Precision.FP16, fp32, 1e-4, 1e-3, Precision.FP16, table, failed);
                    arm("BF16 NHWC", fp32, Precision.BF16, fp32, 1e-4, 8e-3, Precision.BF16, table, failed);
                } finally {
                    if (before == null) {
                        System.clearProperty("qsync.cuda.halfTensors");
                    } else {
                        System.setProperty("qsync.cuda.halfTensors", before);
                    }
                }
                table.append("state: ").append(fp32.directConvolutionState()).append('\n');
            }
        });
        System.out.println(table);
        assertTrue(failed.isEmpty(), () -> failed.size() + " cuDNN convolutions differ: " + failed);
    }

    @Test
    void switchedOffOrAsymmetricPaddingGivesNoCudnnConvolution() {
        String why = CudaPresence.whyUnavailable();
        Assumptions.assumeTrue(why == null, () -> "CudnnConvolutionGpuTest skipped: " + why);
        ConvGeom same = new ConvGeom(2, 8, 8, 2, 2, 1, 1, 0, 0, 8, 8); // DL4J Same mode, k2 s1: one row more below
        ConvGeom plain = new ConvGeom(2, 8, 8, 3, 3, 1, 1, 1, 1, 8, 8);
        assertTimeoutPreemptively(Duration.ofMinutes(2), () -> {
            try (CudaTensorOps off = CudaTensorOps.open(0, false, false);
                    CudaTensorOps on = CudaTensorOps.open(0, false, true)) {
                assertTrue(off.directConvolution(plain, 4, 3, Precision.FP32) == null, off.directConvolutionState());
                assertTrue(off.directConvolutionState().contains("switched off"), off.directConvolutionState());
                assertTrue(on.directConvolution(same, 4, 3, Precision.FP32) == null, "asymmetric padding");
                assertTrue(on.directConvolution(plain, 4, 3, Precision.INT8) == null, "INT8 stays on its own path");
                if (CudnnPresence.whyUnavailable() == null) {
                    assertTrue(on.directConvolution(plain, 4, 3, Precision.FP32) != null, on.directConvolutionState());
                    assertTrue(on.directConvolutionState().contains("asymmetric"), on.directConvolutionState());
                }
            }
        });
    }
}
