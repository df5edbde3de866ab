package io.qsync.lowprec.cuda.bench;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.CudaStream;
import io.qsync.lowprec.cuda.CudaTimer;
import io.qsync.lowprec.cuda.DeviceAllocator;
import io.qsync.lowprec.cuda.DeviceBuffer;
import io.qsync.lowprec.cuda.GemmType;
import io.qsync.lowprec.cuda.LtMatmul;
import io.qsync.lowprec.cuda.QuantKernels;
import io.qsync.lowprec.quant.IntRounding;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Benchmarks (CUDA events, warm-up, median of repeats, random inputs): device-to-device copy bandwidth, cuBLASLt
 * GEMMs per precision at 8192³ (heuristic choice and the best of the heuristic's top 8 = "measured peak"), the INT8
 * linear forward against FP16 and TF32, the GEMMs of the demo CNN's and a ResNet-50 bottleneck's layers, and the
 * quantize / dequantize / cast kernels' bandwidth with an α·n+β fit of the FP32→FP16 cast.
 */
public final class GpuBench {
    private final DeviceAllocator alloc;
    private final LtMatmul lt;
    private final QuantKernels qk;
    private final CudaStream s;
    private final CudaTimer timer;
    private final boolean fp8;
    private final List<String> log = new ArrayList<>();
    /** Everything measured, in the profile JSON's structure. */
    public final Map<String, Object> profile = new LinkedHashMap<>();

    /** @param fp8 device supports FP8 GEMMs */
    public GpuBench(DeviceAllocator alloc, LtMatmul lt, QuantKernels qk, CudaStream s, boolean fp8) {
        this.alloc = alloc;
        this.lt = lt;
        this.qk = qk;
        this.s = s;
        this.timer = new CudaTimer(s, 64);
        this.fp8 = fp8;
    }

    /** @return human-readable lines of what was measured */
    public List<String> log() {
        return log;
    }

    private void say(String fmt, Object... args) {
        String line = String.format(java.util.Locale.ROOT, fmt, args);
        log.add(line);
        System.out.println(line);
    }

    private static double r(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }

    /** Runs everything. */
    public void runAll() {
        double copyGBs = copyBandwidth();
        section("gemmPeaks", this::gemmPeaks);
        section("linearForward", this::linearForward);
        section("layerShapes", this::layerShapes);
        section("quantBandwidth", () -> quantBandwidth(copyGBs));
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

    private DeviceBuffer randomF32(String name, long n, float scale) {
        DeviceBuffer b = alloc.allocate(name, 4 * n);
        qk.fillUniform(b, n, System.nanoTime(), scale, s);
        return b;
    }

    /** Random operand of a GEMM type's element format. */
    private DeviceBuffer operand(String name, long n, int bytes, Precision p) {
        try (DeviceBuffer f = randomF32(name + " f32", n, 1f)) {
            DeviceBuffer b = alloc.allocate(name, n * bytes);
            if (bytes == 4) {
                b.copyFrom(f, 4 * n, s);
            } else if (p == Precision.INT8) {
                try (DeviceBuffer am = alloc.allocate("am", 4); DeviceBuffer sc = alloc.allocate("sc", 4)) {
                    qk.amaxQuantizeInt8(f, n, am, b, sc, IntRounding.NEAREST, 0, 0, s);
                    s.synchronize("operand");
                }
            } else {
                qk.cast(f, n, p, b, s);
            }
            s.synchronize("operand " + name);
            return b;
        }
    }

    private static Precision aFormat(GemmType t) {
        return switch (t) {
            case FP16, FP16_OUT16 -> Precision.FP16;
            case BF16 -> Precision.BF16;
            case INT8 -> Precision.INT8;
            case FP8_E4M3 -> Precision.FP8_E4M3;
            case FP8_E5M2_E4M3 -> Precision.FP8_E5M2;
            default -> Precision.FP32;
        };
    }

    private static Precision bFormat(GemmType t) {
        return t == GemmType.FP8_E5M2_E4M3 ? Precision.FP8_E4M3 : aFormat(t);
    }

    private double copyBandwidth() {
        long n = 1L << 30;
        try (DeviceBuffer a = alloc.allocate("copy src", n); DeviceBuffer b = alloc.allocate("copy dst", n)) {
            qk.fillUniform(a, n / 4, 1, 1f, s);
            double ms = timer.median("D2D copy", 3, 20, () -> b.copyFrom(a, n, s));
            double gbs = 2.0 * n / (ms * 1e6);
            say("D2D copy 1 GiB: %.3f ms, %.1f GB/s (read + write)", ms, gbs);
            profile.put("copyGBps", r(gbs));
            return gbs;
        }
    }

    private List<GemmType> types() {
        List<GemmType> t = new ArrayList<>(List.of(GemmType.FP32, GemmType.TF32, GemmType.FP16, GemmType.BF16, GemmType.INT8));
        if (fp8) {
            t.add(GemmType.FP8_E4M3);
        }
        return t;
    }

    /** One GEMM: median ms with the heuristic's first algorithm; optionally the best over its top 8. */
    private double[] timeGemm(GemmType t, long m, long n, long k, boolean ta, boolean tb, boolean allAlgos, int reps) {
        LtMatmul.Plan plan = lt.plan(t, m, n, k, ta, tb);
        try (DeviceBuffer a = operand("A", m * k, t.aBytes, aFormat(t)); DeviceBuffer b = operand("B", n * k, t.bBytes, bFormat(t));
             DeviceBuffer d = alloc.allocate("D", m * n * t.dBytes);
             DeviceBuffer sa = alloc.allocate("sa", 4); DeviceBuffer sb = alloc.allocate("sb", 4)) {
            sa.upload(new float[] {1f});
            sb.upload(new float[] {1f});
            double first = allAlgos ? timer.median("gemm " + t, 2, reps, () -> plan.run(0, a, b, d, sa, sb, s))
                    : timer.medianBatched("gemm " + t, 2, 7, reps, () -> plan.run(0, a, b, d, sa, sb, s));
            double best = first;
            int bestAlgo = 0;
            if (allAlgos) {
                for (int i = 1; i < plan.algorithms(); i++) {
                    final int algo = i;
                    try {
                        double ms = timer.median("gemm " + t + " algo " + i, 1, Math.max(3, reps / 2), () -> plan.run(algo, a, b, d, sa, sb, s));
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

    private static double tflops(long m, long n, long k, double ms) {
        return 2.0 * m * n * k / (ms * 1e9);
    }

    private void gemmPeaks() {
        long sz = 8192;
        Map<String, Object> peaks = new LinkedHashMap<>();
        say("GEMM %dx%dx%d (A·Bᵀ, K-major operands), median of 10; peak = best of cuBLASLt's top heuristic algorithms:", sz, sz, sz);
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
            say("  %-9s heuristic #0: %.3f ms = %.1f T%s; peak (algo %d of %d): %.1f; ratio %.3f", t, r[0], used,
                    t == GemmType.INT8 ? "OPS" : "FLOPS", (int) r[2], (int) r[3], peak, used / peak);
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

    /** Full linear forward (activation quantize/cast + GEMM + epilogue), weights already in the layer's format. */
    private void linearForward() {
        Map<String, Object> out = new LinkedHashMap<>();
        long[][] shapes = {{8192, 8192, 8192}, {16384, 8192, 8192}, {32768, 4096, 4096}};
        for (long[] sh : shapes) {
            long m = sh[0], n = sh[1], k = sh[2];
            Map<String, Object> e = new LinkedHashMap<>();
            try (DeviceBuffer x = randomF32("X", m * k, 1f); DeviceBuffer y = alloc.allocate("Y", 4 * m * n);
                 DeviceBuffer acc = alloc.allocate("acc", 4 * m * n); DeviceBuffer x8 = alloc.allocate("X8", m * k);
                 DeviceBuffer x16 = alloc.allocate("X16", 2 * m * k); DeviceBuffer xt = alloc.allocate("X tf32", 4 * m * k);
                 DeviceBuffer w8 = operand("W8", n * k, 1, Precision.INT8); DeviceBuffer w16 = operand("W16", n * k, 2, Precision.FP16);
                 DeviceBuffer w32 = operand("W32", n * k, 4, Precision.FP32);
                 DeviceBuffer am = alloc.allocate("am", 4); DeviceBuffer sx = alloc.allocate("sx", 4); DeviceBuffer sw = alloc.allocate("sw", 4 * n)) {
                sw.fillAsync(0, s);
                qk.cast(w32, n * k, Precision.TF32, w32, s);
                double int8 = timer.median("INT8 linear", 2, 10, () -> {
                    qk.amaxQuantizeInt8(x, m * k, am, x8, sx, IntRounding.TRUNCATE, 0, 0, s);
                    lt.matmul(GemmType.INT8, false, true, m, n, k, x8, w8, acc, null, null, s);
                    qk.dequantizeInt32(acc, m, (int) n, sx, sw, true, null, y, s);
                });
                double int8Gemm = timer.median("INT8 gemm", 2, 10, () -> lt.matmul(GemmType.INT8, false, true, m, n, k, x8, w8, acc, null, null, s));
                double fp16 = timer.median("FP16 linear", 2, 10, () -> {
                    qk.cast(x, m * k, Precision.FP16, x16, s);
                    lt.matmul(GemmType.FP16, false, true, m, n, k, x16, w16, y, null, null, s);
                });
                double fp16Gemm = timer.median("FP16 gemm", 2, 10, () -> lt.matmul(GemmType.FP16, false, true, m, n, k, x16, w16, y, null, null, s));
                double tf32 = timer.median("TF32 linear", 2, 10, () -> {
                    qk.cast(x, m * k, Precision.TF32, xt, s);
                    lt.matmul(GemmType.TF32, false, true, m, n, k, xt, w32, y, null, null, s);
                });
                double tf32Gemm = timer.median("TF32 gemm", 2, 10, () -> lt.matmul(GemmType.TF32, false, true, m, n, k, xt, w32, y, null, null, s));
                // what CudaLowPrecisionGemm.prepare + forward really do per forward: X AND W (FP32 masters) converted
                // every call (INT8: W per channel, fused amax), then GEMM (+ INT8's dequant epilogue)
                double[] layer = new double[3];
                try (DeviceBuffer wf = randomF32("W f32", n * k, 1f); DeviceBuffer wt = alloc.allocate("W tf32", 4 * n * k)) {
                    layer[0] = timer.median("INT8 layer fwd", 2, 10, () -> {
                        qk.amaxQuantizeInt8(x, m * k, am, x8, sx, IntRounding.TRUNCATE, 0, 0, s);
                        qk.quantizeInt8Rows(wf, (int) n, k, w8, sw, IntRounding.TRUNCATE, 0, 1, s);
                        lt.matmul(GemmType.INT8, false, true, m, n, k, x8, w8, acc, null, null, s);
                        qk.dequantizeInt32(acc, m, (int) n, sx, sw, true, null, y, s);
                    });
                    layer[1] = timer.median("FP16 layer fwd", 2, 10, () -> {
                        qk.cast(x, m * k, Precision.FP16, x16, s);
                        qk.cast(wf, n * k, Precision.FP16, w16, s);
                        lt.matmul(GemmType.FP16, false, true, m, n, k, x16, w16, y, null, null, s);
                    });
                    layer[2] = timer.median("TF32 layer fwd", 2, 10, () -> {
                        qk.cast(x, m * k, Precision.TF32, xt, s);
                        qk.cast(wf, n * k, Precision.TF32, wt, s);
                        lt.matmul(GemmType.TF32, false, true, m, n, k, xt, wt, y, null, null, s);
                    });
                }
                String key = m + "x" + n + "x" + k;
                say("Linear forward %s: INT8 %.3f ms (GEMM %.3f), FP16 %.3f ms (GEMM %.3f), TF32 %.3f ms (GEMM %.3f); "
                                + "INT8 speed-up over FP16 %.2fx (GEMM only %.2fx), over TF32 %.2fx (GEMM only %.2fx)",
                        key, int8, int8Gemm, fp16, fp16Gemm, tf32, tf32Gemm, fp16 / int8, fp16Gemm / int8Gemm, tf32 / int8, tf32Gemm / int8Gemm);
                say("  layer forward as CudaLowPrecisionGemm does it (X and W converted every call): INT8 %.3f ms, FP16 %.3f ms, "
                        + "TF32 %.3f ms; INT8 over FP16 %.2fx, over TF32 %.2fx", layer[0], layer[1], layer[2],
                        layer[1] / layer[0], layer[2] / layer[0]);
                e.put("layerInt8Ms", r(layer[0]));
                e.put("layerFp16Ms", r(layer[1]));
                e.put("layerTf32Ms", r(layer[2]));
                e.put("layerInt8OverFp16", r(layer[1] / layer[0]));
                e.put("layerInt8OverTf32", r(layer[2] / layer[0]));
                e.put("int8Ms", r(int8));
                e.put("int8GemmMs", r(int8Gemm));
                e.put("fp16Ms", r(fp16));
                e.put("fp16GemmMs", r(fp16Gemm));
                e.put("tf32Ms", r(tf32));
                e.put("tf32GemmMs", r(tf32Gemm));
                e.put("int8OverFp16", r(fp16 / int8));
                e.put("int8OverTf32", r(tf32 / int8));
                out.put(key, e);
            }
        }
        profile.put("linearForward", out);
    }

    /** A layer's GEMM shape: M (rows: batch·positions), N (output channels), K (input features). */
    private record Shape(String name, long m, long n, long k) {
    }

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
        say("Layer GEMMs (dims padded to multiples of 16 as QSync pads channels; µs per GEMM, median of 7 batches of 20 back-to-back runs):");
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

    private void quantBandwidth(double copyGBs) {
        long n = 1L << 28;
        Map<String, Object> out = new LinkedHashMap<>();
        try (DeviceBuffer x = randomF32("x", n, 3f); DeviceBuffer q = alloc.allocate("q", n); DeviceBuffer h = alloc.allocate("h", 2 * n);
             DeviceBuffer y = alloc.allocate("y", 4 * n); DeviceBuffer o = alloc.allocate("o", 4 * n);
             DeviceBuffer am = alloc.allocate("am", 4); DeviceBuffer sc = alloc.allocate("sc", 4 * 16384)) {
            qk.amax(x, n, am, s);
            qk.quantizeInt8(x, n, am, q, sc, IntRounding.TRUNCATE, 0, 0, s);
            Object[][] ops = {
                {"amax (read 4n)", 4.0, (Runnable) () -> qk.amax(x, n, am, s)},
                {"INT8 quantize, scale on device (4n+n)", 5.0, (Runnable) () -> qk.quantizeInt8(x, n, am, q, sc, IntRounding.TRUNCATE, 0, 0, s)},
                {"INT8 quantize stochastic (4n+n)", 5.0, (Runnable) () -> qk.quantizeInt8(x, n, am, q, sc, IntRounding.STOCHASTIC, 1, 2, s)},
                {"INT8 amax+quantize, 2 passes (logical 4n+n)", 5.0, (Runnable) () -> qk.amaxQuantizeInt8(x, n, am, q, sc, IntRounding.TRUNCATE, 0, 0, s)},
                {"INT8 per-channel fused amax+quantize 16384 rows (4n+n)", 5.0, (Runnable) () -> qk.quantizeInt8Rows(x, 16384, n / 16384, q, sc, IntRounding.TRUNCATE, 0, 0, s)},
                {"INT8 dequantize to FP32 (n+4n)", 5.0, (Runnable) () -> qk.dequantizeInt8(q, n, 1, 1, sc, false, y, s)},
                {"INT8 dequantize to FP16 (n+2n)", 3.0, (Runnable) () -> qk.dequantizeInt8(q, n, 1, 1, sc, true, h, s)},
                {"INT32 dequantize+scale (4n+4n)", 8.0, (Runnable) () -> qk.dequantizeInt32(y, n / 4096, 4096, sc, sc, false, null, o, s)},
                {"cast FP32->FP16 (4n+2n)", 6.0, (Runnable) () -> qk.cast(x, n, Precision.FP16, h, s)},
                {"cast FP32->BF16 (4n+2n)", 6.0, (Runnable) () -> qk.cast(x, n, Precision.BF16, h, s)},
                {"cast FP16->FP32 (2n+4n)", 6.0, (Runnable) () -> qk.widen16(h, n, Precision.FP16, y, s)},
                {"cast FP32->TF32 (4n+4n)", 8.0, (Runnable) () -> qk.cast(x, n, Precision.TF32, y, s)},
                {"FP8 E4M3 quantize, scale on device (4n+n)", 5.0, (Runnable) () -> qk.quantizeFp8(x, n, Precision.FP8_E4M3, am, sc, q, s)},
                {"FP8 E4M3 dequantize (n+4n)", 5.0, (Runnable) () -> qk.dequantizeFp8(q, n, Precision.FP8_E4M3, sc, y, s)},
            };
            say("Quantize/dequantize/cast on 2^28 elements (GB/s = logical bytes / time; copy = %.1f GB/s):", copyGBs);
            for (Object[] op : ops) {
                double ms = timer.median((String) op[0], 2, 10, (Runnable) op[2]);
                double gbs = (Double) op[1] * n / (ms * 1e6);
                say("  %-58s %.3f ms  %7.1f GB/s  ratio to copy %.3f", op[0], ms, gbs, gbs / copyGBs);
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("ms", r(ms));
                e.put("GBps", r(gbs));
                e.put("ratioToCopy", r(gbs / copyGBs));
                if (((String) op[0]).startsWith("INT8 amax+quantize")) {
                    // bytes actually moved: amax reads 4n, quantize reads 4n and writes n
                    double moved = 9.0 * n / (ms * 1e6);
                    say("  %-58s %.3f ms  %7.1f GB/s  ratio to copy %.3f", "  same, bytes moved (4n + 4n+n)", ms, moved, moved / copyGBs);
                    e.put("movedGBps", r(moved));
                    e.put("movedRatioToCopy", r(moved / copyGBs));
                }
                out.put((String) op[0], e);
            }
        }
        // a tensor that fits in L2 (60 MiB on H100/H200): the second pass of amax+quantize re-reads from L2
        long nl2 = 1L << 23;
        try (DeviceBuffer x = randomF32("x small", nl2, 3f); DeviceBuffer x2 = alloc.allocate("x2", 4 * nl2);
             DeviceBuffer q = alloc.allocate("q small", nl2); DeviceBuffer am = alloc.allocate("am", 4); DeviceBuffer sc = alloc.allocate("sc", 4)) {
            double copyMs = timer.median("copy 32MiB", 3, 30, () -> x2.copyFrom(x, 4 * nl2, s));
            double copySmall = 8.0 * nl2 / (copyMs * 1e6);
            double ms = timer.median("amax+quant 32MiB", 3, 30, () -> qk.amaxQuantizeInt8(x, nl2, am, q, sc, IntRounding.TRUNCATE, 0, 0, s));
            double gbs = 5.0 * nl2 / (ms * 1e6);
            say("  %-58s %.3f ms  %7.1f GB/s  ratio to a 32 MiB copy (%.1f GB/s) %.3f", "INT8 amax+quantize 2^23 elements (L2-resident)", ms, gbs, copySmall, gbs / copySmall);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("ms", r(ms));
            e.put("GBps", r(gbs));
            e.put("copyGBpsSameSize", r(copySmall));
            e.put("ratioToCopy", r(gbs / copySmall));
            out.put("INT8 amax+quantize 2^23 elements (L2-resident)", e);
        }
        profile.put("quantKernels", out);
    }

    private void castFit() {
        long[] sizes = {1L << 16, 1L << 18, 1L << 20, 1L << 22, 1L << 24, 1L << 26};
        long max = sizes[sizes.length - 1];
        try (DeviceBuffer x = randomF32("x", max, 1f); DeviceBuffer h = alloc.allocate("h", 2 * max)) {
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
            say("cast FP32->FP16 cost fit: t(n) = %.4g us * n + %.2f us (alpha = %.3g ns/element)", alpha, beta, alpha * 1000);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("alphaUsPerElement", alpha);
            e.put("betaUs", r(beta));
            e.put("points_n_us", pts);
            profile.put("castFp32ToFp16Fit", e);
        }
    }
}
