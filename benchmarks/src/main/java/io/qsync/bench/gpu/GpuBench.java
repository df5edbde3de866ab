package io.qsync.bench.gpu;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.CudaStream;
import io.qsync.lowprec.cuda.DeviceAllocator;
import io.qsync.lowprec.cuda.DeviceBuffer;
import io.qsync.lowprec.cuda.GemmType;
import io.qsync.lowprec.cuda.LtMatmul;
import io.qsync.lowprec.cuda.QuantKernels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Benchmarks (CUDA events, warm-up, median of repeats, random inputs): device-to-device copy bandwidth, cuBLASLt
 * GEMMs per precision at 8192³ (heuristic choice and the best of the heuristic's top 8 = "measured peak"), the INT8
 * linear forward against FP16 and TF32 ({@link LinearForwardBench}), the GEMMs of the demo CNN's and a ResNet-50
 * bottleneck's layers, the quantize / dequantize / cast kernels' bandwidth ({@link QuantBandwidthBench}) and an
 * α·n+β fit of the FP32→FP16 cast.
 */
public final class GpuBench extends BenchBase {
    /** @param fp8 device supports FP8 GEMMs */
    public GpuBench(DeviceAllocator alloc, LtMatmul lt, QuantKernels qk, CudaStream s, boolean fp8) {
        super(alloc, lt, qk, s, fp8);
    }

    /** @return human-readable lines of what was measured */
    public List<String> log() {
        return log;
    }

    /** @return everything measured, in the profile JSON's structure */
    public Map<String, Object> profile() {
        return profile;
    }

    /** Runs everything. */
    public void runAll() {
        double copyGBs = copyBandwidth();
        section("gemmPeaks", this::gemmPeaks);
        section("linearForward", () -> new LinearForwardBench(this).run());
        section("layerShapes", this::layerShapes);
        section("quantBandwidth", () -> new QuantBandwidthBench(this).run(copyGBs));
        section("castFit", this::castFit);
        timer.close();
    }

    private void section(String name, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            say("SECTION %s FAILED: %s", name, e);
            e.printStackTrace();
        }
    }

    private double copyBandwidth() {
        long n = 1L << 30;
        try (DeviceBuffer a = alloc.allocate("copy src", n);
                DeviceBuffer b = alloc.allocate("copy dst", n)) {
            qk.fillUniform(a, n / 4, 1, 1f, s);
            double ms = timer.median("D2D copy", 3, 20, () -> b.copyFrom(a, n, s));
            double gbs = 2.0 * n / (ms * 1e6);
            say("D2D copy 1 GiB: %.3f ms, %.1f GB/s (read + write)", ms, gbs);
            profile.put("copyGBps", r(gbs));
            return gbs;
        }
    }

    private List<GemmType> types() {
        List<GemmType> t =
                new ArrayList<>(List.of(GemmType.FP32, GemmType.TF32, GemmType.FP16, GemmType.BF16, GemmType.INT8));
        if (fp8) {
            t.add(GemmType.FP8_E4M3);
        }
        return t;
    }

    /** One GEMM: median ms with the heuristic's first algorithm; optionally the best over its top 8. */
    private double[] timeGemm(GemmType t, long m, long n, long k, boolean ta, boolean tb, boolean allAlgos, int reps) {
        LtMatmul.Plan plan = lt.plan(t, m, n, k, ta, tb);
        try (DeviceBuffer a = operand("A", m * k, t.aBytes, aFormat(t));
                DeviceBuffer b = operand("B", n * k, t.bBytes, bFormat(t));
                DeviceBuffer d = alloc.allocate("D", m * n * t.dBytes);
                DeviceBuffer sa = alloc.allocate("sa", 4);
                DeviceBuffer sb = alloc.allocate("sb", 4)) {
            sa.upload(new float[] {1f});
            sb.upload(new float[] {1f});
            double first = allAlgos
                    ? timer.median("gemm " + t, 2, reps, () -> plan.run(0, a, b, d, sa, sb, s))
                    : timer.medianBatched("gemm " + t, 2, 7, reps, () -> plan.run(0, a, b, d, sa, sb, s));
            double best = first;
            int bestAlgo = 0;
            if (allAlgos) {
                for (int i = 1; i < plan.algorithms(); i++) {
                    final int algo = i;
                    try {
                        double ms = timer.median(
                                "gemm " + t + " algo " + i,
                                1,
                                Math.max(3, reps / 2),
                                () -> plan.run(algo, a, b, d, sa, sb, s));
                        if (ms < best) {
                            best = ms;
                            bestAlgo = i;
                        }
                    } catch (RuntimeException e) {
                        say("  %s algo %d failed: %s", t, i, e.getMessage());
                    }
                }
            }
            return new double[] {first, best, bestAlgo, plan.algorithms()};
        }
    }

    /** Median µs of one GEMM (batches of 20 back-to-back runs), or NaN (reported) when cuBLASLt refuses the shape. */
    private double safeUs(GemmType t, long m, long n, long k, boolean ta, boolean tb) {
        try {
            return timeGemm(t, m, n, k, ta, tb, false, 20)[0] * 1000;
        } catch (RuntimeException e) {
            say("  %s %dx%dx%d: %s", t, m, n, k, e.getMessage());
            return Double.NaN;
        }
    }

    private void gemmPeaks() {
        long sz = 8192;
        Map<String, Object> peaks = new LinkedHashMap<>();
        say(
                "GEMM %dx%dx%d (A·Bᵀ, K-major operands), median of 10; peak = best of cuBLASLt's top heuristic algorithms:",
                sz, sz, sz);
        for (GemmType t : types()) {
            double[] r;
            try {
                r = timeGemm(t, sz, sz, sz, false, true, true, 10);
            } catch (RuntimeException e) {
                say("  %-9s failed: %s", t, e.getMessage());
                continue;
            }
            double used = tflops(sz, sz, sz, r[0]);
            double peak = tflops(sz, sz, sz, r[1]);
            say(
                    "  %-9s heuristic #0: %.3f ms = %.1f T%s; peak (algo %d of %d): %.1f; ratio %.3f",
                    t, r[0], used, t == GemmType.INT8 ? "OPS" : "FLOPS", (int) r[2], (int) r[3], peak, used / peak);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("heuristicMs", r(r[0]));
            e.put("heuristicTflops", r(used));
            e.put("peakTflops", r(peak));
            e.put("ratioToPeak", r(used / peak));
            e.put("algorithmsTried", (int) r[3]);
            peaks.put(t.name(), e);
        }
        profile.put("gemm8192", peaks);
    }

    /** A layer's GEMM shape: M (rows: batch·positions), N (output channels), K (input features). */
    private record Shape(String name, long m, long n, long k) {}

    private static long pad16(long v) {
        return (v + 15) / 16 * 16;
    }

    private void layerShapes() {
        int b = 256;
        int rb = 32;
        List<Shape> shapes = List.of(
                new Shape("demoCNN.conv1 5x5 1->8 @28x28 (b" + b + ")", (long) b * 24 * 24, 8, 25),
                new Shape("demoCNN.conv2 5x5 8->16 @12x12 (b" + b + ")", (long) b * 8 * 8, 16, 200),
                new Shape("demoCNN.dense 256->64 (b" + b + ")", b, 64, 256),
                new Shape("demoCNN.out 64->10 (b" + b + ")", b, 10, 64),
                new Shape("resnet50.conv2_x 1x1 256->64 @56x56 (b" + rb + ")", (long) rb * 56 * 56, 64, 256),
                new Shape("resnet50.conv2_x 3x3 64->64 @56x56 (b" + rb + ")", (long) rb * 56 * 56, 64, 576),
                new Shape("resnet50.conv2_x 1x1 64->256 @56x56 (b" + rb + ")", (long) rb * 56 * 56, 256, 64),
                new Shape("resnet50.conv4_x 3x3 256->256 @14x14 (b" + rb + ")", (long) rb * 14 * 14, 256, 2304));
        Map<String, Object> out = new LinkedHashMap<>();
        say(
                "Layer GEMMs (dims padded to multiples of 16 as QSync pads channels; µs per GEMM, median of 7 batches of 20 back-to-back runs):");
        for (Shape sh : shapes) {
            long m = pad16(sh.m()), n = pad16(sh.n()), k = pad16(sh.k());
            Map<String, Object> per = new LinkedHashMap<>();
            StringBuilder line = new StringBuilder();
            for (GemmType t : types()) {
                double fwd = safeUs(t, m, n, k, false, true);
                double dgrad;
                double wgrad;
                if (t.needsKMajor) {
                    GemmType bt = t == GemmType.INT8 ? GemmType.FP16 : GemmType.FP8_E5M2_E4M3;
                    // INT8 layers run backward in FP16 (QSync); FP8 backward is E5M2 x E4M3 on transposed copies
                    dgrad = safeUs(bt, m, k, n, false, bt.needsKMajor);
                    wgrad = safeUs(bt, n, k, m, !bt.needsKMajor, bt.needsKMajor);
                } else {
                    dgrad = safeUs(t, m, k, n, false, false);
                    wgrad = safeUs(t, n, k, m, true, false);
                }
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("fwdUs", r(fwd));
                e.put("dgradUs", r(dgrad));
                e.put("wgradUs", r(wgrad));
                per.put(t.name(), e);
                line.append(String.format(java.util.Locale.ROOT, " %s %.1f/%.1f/%.1f", t, fwd, dgrad, wgrad));
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("m", m);
            entry.put("n", n);
            entry.put("k", k);
            entry.put("times", per);
            out.put(sh.name(), entry);
            say("  %s [M=%d N=%d K=%d] fwd/dgrad/wgrad:%s", sh.name(), m, n, k, line);
        }
        profile.put("layerGemms", out);
    }

    private void castFit() {
        long[] sizes = {1L << 16, 1L << 18, 1L << 20, 1L << 22, 1L << 24, 1L << 26};
        long max = sizes[sizes.length - 1];
        try (DeviceBuffer x = randomF32("x", max, 1f);
                DeviceBuffer h = alloc.allocate("h", 2 * max)) {
            double sx = 0, sy = 0, sxx = 0, sxy = 0;
            List<Object> pts = new ArrayList<>();
            for (long n : sizes) {
                double us = timer.median("cast fit", 3, 30, () -> qk.cast(x, n, Precision.FP16, h, s)) * 1000;
                sx += n;
                sy += us;
                sxx += (double) n * n;
                sxy += n * us;
                pts.add(List.of(n, r(us)));
            }
            int c = sizes.length;
            double alpha = (c * sxy - sx * sy) / (c * sxx - sx * sx);
            double beta = (sy - alpha * sx) / c;
            say(
                    "cast FP32->FP16 cost fit: t(n) = %.4g us * n + %.2f us (alpha = %.3g ns/element)",
                    alpha, beta, alpha * 1000);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("alphaUsPerElement", alpha);
            e.put("betaUs", r(beta));
            e.put("points_n_us", pts);
            profile.put("castFp32ToFp16Fit", e);
        }
    }
}
