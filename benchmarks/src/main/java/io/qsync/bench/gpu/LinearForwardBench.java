package io.qsync.bench.gpu;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.CudaException;
import io.qsync.lowprec.cuda.DelayedInt8Scaler;
import io.qsync.lowprec.cuda.DeviceBuffer;
import io.qsync.lowprec.cuda.GemmType;
import io.qsync.lowprec.cuda.LtMatmul;
import io.qsync.lowprec.quant.IntRounding;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The INT8 linear forward against FP16 and TF32 at three large shapes, two definitions ("W pre-converted": weights
 * already in the layer's format; "layer per forward": X and the FP32 master W converted every call, as
 * {@code CudaLowPrecisionGemm.prepare + forward}), each INT8 row with QSync's dynamic activation scale (amax pass +
 * quantize pass) and with the opt-in delayed scale (one fused pass). Also: the saturation rate of delayed scaling on
 * the benchmark's inputs and on a drifting input, and a probe of cuBLASLt INT8 GEMMs with a float output (which
 * would fuse the INT32 dequantization into the GEMM's epilogue).
 */
final class LinearForwardBench extends BenchBase {
    private static final long[][] SHAPES = {{8192, 8192, 8192}, {16384, 8192, 8192}, {32768, 4096, 4096}};
    private static final int REPS = 20;
    /** Whether cuBLASLt planned INT8 → FP32 with a per-channel alpha vector / a scalar alpha (set by {@link #probe}). */
    private boolean f32Vector;

    private boolean f32Scalar;

    LinearForwardBench(BenchBase shared) {
        super(shared);
    }

    void run() {
        profile.put("cublasLtInt8FloatOutput", probe());
        Map<String, Object> out = new LinkedHashMap<>();
        for (long[] sh : SHAPES) {
            try {
                out.put(sh[0] + "x" + sh[1] + "x" + sh[2], shape(sh[0], sh[1], sh[2]));
            } catch (RuntimeException e) {
                say("Linear forward %dx%dx%d FAILED: %s", sh[0], sh[1], sh[2], e);
            }
        }
        profile.put("linearForward", out);
        profile.put("delayedScalingSaturation", saturation());
    }

    private double t(String what, Runnable r) {
        return timer.median(what, 2, REPS, r);
    }

    private Map<String, Object> shape(long m, long n, long k) {
        Map<String, Object> e = new LinkedHashMap<>();
        String key = m + "x" + n + "x" + k;
        try (DeviceBuffer x = randomF32("X", m * k, 1f);
                DeviceBuffer y = alloc.allocate("Y", 4 * m * n);
                DeviceBuffer acc = alloc.allocate("acc", 4 * m * n);
                DeviceBuffer x8 = alloc.allocate("X8", m * k);
                DeviceBuffer x16 = alloc.allocate("X16", 2 * m * k);
                DeviceBuffer xt = alloc.allocate("X tf32", 4 * m * k);
                DeviceBuffer w8 = operand("W8", n * k, 1, Precision.INT8);
                DeviceBuffer w16 = operand("W16", n * k, 2, Precision.FP16);
                DeviceBuffer w32 = operand("W32", n * k, 4, Precision.FP32);
                DeviceBuffer wf = randomF32("W f32", n * k, 1f);
                DeviceBuffer wt = alloc.allocate("W tf32", 4 * n * k);
                DeviceBuffer am = alloc.allocate("am", 4);
                DeviceBuffer sx = alloc.allocate("sx", 4);
                DeviceBuffer sw = alloc.allocate("sw", 4 * n);
                DeviceBuffer alpha = randomF32("alpha[N]", n, 1e-4f);
                DelayedInt8Scaler dl = new DelayedInt8Scaler(alloc, qk, 1)) {
            sw.fillAsync(0, s);
            qk.cast(w32, n * k, Precision.TF32, w32, s);
            final IntRounding tr = IntRounding.TRUNCATE;
            Runnable gemm8 = () -> lt.matmul(GemmType.INT8, false, true, m, n, k, x8, w8, acc, null, null, s);
            Runnable deq = () -> qk.dequantizeInt32(acc, m, (int) n, sx, sw, true, null, y, s);
            Runnable dyn = () -> qk.amaxQuantizeInt8(x, m * k, am, x8, sx, tr, 0, 0, s);
            Runnable del = () -> dl.quantize(x, m * k, x8, sx, tr, 0, 0, s);
            Runnable wq = () -> qk.quantizeInt8Rows(wf, (int) n, k, w8, sw, tr, 0, 1, s);
            double int8 = t("INT8 linear", () -> {
                dyn.run();
                gemm8.run();
                deq.run();
            });
            double int8Del = t("INT8 linear delayed", () -> {
                del.run();
                gemm8.run();
                deq.run();
            });
            double int8Gemm = t("INT8 gemm", gemm8);
            double qDyn = t("amax+quantize X", dyn);
            double qDel = t("delayed quantize X", del);
            double deqMs = t("dequant INT32", deq);
            double fp16 = t("FP16 linear", () -> {
                qk.cast(x, m * k, Precision.FP16, x16, s);
                lt.matmul(GemmType.FP16, false, true, m, n, k, x16, w16, y, null, null, s);
            });
            double fp16Gemm =
                    t("FP16 gemm", () -> lt.matmul(GemmType.FP16, false, true, m, n, k, x16, w16, y, null, null, s));
            double tf32 = t("TF32 linear", () -> {
                qk.cast(x, m * k, Precision.TF32, xt, s);
                lt.matmul(GemmType.TF32, false, true, m, n, k, xt, w32, y, null, null, s);
            });
            double tf32Gemm =
                    t("TF32 gemm", () -> lt.matmul(GemmType.TF32, false, true, m, n, k, xt, w32, y, null, null, s));
            // per forward, as CudaLowPrecisionGemm.prepare + forward: X and the FP32 master W converted every call
            double layer8 = t("INT8 layer fwd", () -> {
                dyn.run();
                wq.run();
                gemm8.run();
                deq.run();
            });
            double layer8Del = t("INT8 layer fwd delayed", () -> {
                del.run();
                wq.run();
                gemm8.run();
                deq.run();
            });
            double layer16 = t("FP16 layer fwd", () -> {
                qk.cast(x, m * k, Precision.FP16, x16, s);
                qk.cast(wf, n * k, Precision.FP16, w16, s);
                lt.matmul(GemmType.FP16, false, true, m, n, k, x16, w16, y, null, null, s);
            });
            double layer32 = t("TF32 layer fwd", () -> {
                qk.cast(x, m * k, Precision.TF32, xt, s);
                qk.cast(wf, n * k, Precision.TF32, wt, s);
                lt.matmul(GemmType.TF32, false, true, m, n, k, xt, wt, y, null, null, s);
            });
            say(
                    "Linear forward %s: INT8 %.3f ms (GEMM %.3f), FP16 %.3f ms (GEMM %.3f), TF32 %.3f ms (GEMM %.3f); "
                            + "INT8 speed-up over FP16 %.2fx (GEMM only %.2fx), over TF32 %.2fx (GEMM only %.2fx)",
                    key,
                    int8,
                    int8Gemm,
                    fp16,
                    fp16Gemm,
                    tf32,
                    tf32Gemm,
                    fp16 / int8,
                    fp16Gemm / int8Gemm,
                    tf32 / int8,
                    tf32Gemm / int8Gemm);
            say(
                    "  delayed scaling (W pre-converted): INT8 %.3f ms; over FP16 %.2fx, over TF32 %.2fx  [X: amax+quantize %.3f ms, "
                            + "delayed fused quantize %.3f ms; INT32 dequant %.3f ms]",
                    int8Del, fp16 / int8Del, tf32 / int8Del, qDyn, qDel, deqMs);
            say(
                    "  layer forward as CudaLowPrecisionGemm does it (X and W converted every call): INT8 %.3f ms, FP16 %.3f ms, "
                            + "TF32 %.3f ms; INT8 over FP16 %.2fx, over TF32 %.2fx; with delayed scaling INT8 %.3f ms: over FP16 %.2fx, over TF32 %.2fx",
                    layer8,
                    layer16,
                    layer32,
                    layer16 / layer8,
                    layer32 / layer8,
                    layer8Del,
                    layer16 / layer8Del,
                    layer32 / layer8Del);
            e.put("int8Ms", r(int8));
            e.put("int8DelayedMs", r(int8Del));
            e.put("int8GemmMs", r(int8Gemm));
            e.put("amaxQuantizeXMs", r(qDyn));
            e.put("delayedQuantizeXMs", r(qDel));
            e.put("dequantInt32Ms", r(deqMs));
            e.put("fp16Ms", r(fp16));
            e.put("fp16GemmMs", r(fp16Gemm));
            e.put("tf32Ms", r(tf32));
            e.put("tf32GemmMs", r(tf32Gemm));
            e.put("int8OverFp16", r(fp16 / int8));
            e.put("int8OverTf32", r(tf32 / int8));
            e.put("int8DelayedOverFp16", r(fp16 / int8Del));
            e.put("int8DelayedOverTf32", r(tf32 / int8Del));
            e.put("layerInt8Ms", r(layer8));
            e.put("layerInt8DelayedMs", r(layer8Del));
            e.put("layerFp16Ms", r(layer16));
            e.put("layerTf32Ms", r(layer32));
            e.put("layerInt8OverFp16", r(layer16 / layer8));
            e.put("layerInt8OverTf32", r(layer32 / layer8));
            e.put("layerInt8DelayedOverFp16", r(layer16 / layer8Del));
            e.put("layerInt8DelayedOverTf32", r(layer32 / layer8Del));
            if (f32Vector || f32Scalar) {
                try {
                    fusedEpilogue(e, m, n, k, x8, w8, y, alpha, del, fp16, tf32);
                } catch (RuntimeException ex) {
                    say("  FP32-out INT8 GEMM at %s failed: %s", key, ex.getMessage());
                }
            }
        }
        return e;
    }

    /**
     * INT8 GEMM with the dequantization in cuBLASLt's epilogue (FP32 D): delayed quantize + that GEMM. The N-float
     * {@code sx·sw} alpha vector is precomputed here (in the op it would be one more tiny launch, not timed).
     */
    private void fusedEpilogue(
            Map<String, Object> e,
            long m,
            long n,
            long k,
            DeviceBuffer x8,
            DeviceBuffer w8,
            DeviceBuffer y,
            DeviceBuffer alpha,
            Runnable del,
            double fp16,
            double tf32) {
        LtMatmul.Plan p = f32Vector
                ? lt.planAlphaVector(GemmType.INT8_OUT_F32, m, n, k)
                : lt.plan(GemmType.INT8_OUT_F32, m, n, k, false, true);
        Runnable g32 =
                f32Vector ? () -> p.runAlphaVector(0, x8, w8, y, alpha, s) : () -> p.run(0, x8, w8, y, null, null, s);
        double gF32 = t("INT8->FP32 gemm", g32);
        double fused = t("INT8 delayed + FP32-out gemm", () -> {
            del.run();
            g32.run();
        });
        say(
                "  cuBLASLt INT8 GEMM with FP32 output (%s alpha): GEMM %.3f ms; delayed quantize + it %.3f ms: over FP16 %.2fx, over TF32 %.2fx",
                f32Vector ? "per-channel vector" : "scalar", gF32, fused, fp16 / fused, tf32 / fused);
        e.put("int8F32OutGemmMs", r(gF32));
        e.put("int8DelayedF32OutMs", r(fused));
        e.put("int8DelayedF32OutOverFp16", r(fp16 / fused));
        e.put("int8DelayedF32OutOverTf32", r(tf32 / fused));
    }

    /** Saturated fraction of delayed scaling (H = 1) over consecutive calls, excluding the first (own-amax) call. */
    private Map<String, Object> saturation() {
        long n = 8192L * 8192;
        int calls = 16;
        Map<String, Object> out = new LinkedHashMap<>();
        try (DeviceBuffer x = alloc.allocate("X", 4 * n);
                DeviceBuffer q = alloc.allocate("q", n);
                DeviceBuffer sx = alloc.allocate("sx", 4);
                DelayedInt8Scaler dl = new DelayedInt8Scaler(alloc, qk, 1)) {
            for (double growth : new double[] {1.0, 1.001, 1.01, 1.1}) {
                dl.reset(s);
                long afterFirst = 0;
                for (int c = 0; c < calls; c++) {
                    qk.fillUniform(x, n, 1000L + c, (float) Math.pow(growth, c), s);
                    dl.quantize(x, n, q, sx, IntRounding.TRUNCATE, 0, 0, s);
                    if (c == 0) {
                        s.synchronize("saturation");
                        afterFirst = dl.saturatedTotal();
                    }
                }
                s.synchronize("saturation");
                long sat = dl.saturatedTotal() - afterFirst;
                double rate = (double) sat / ((double) n * (calls - 1));
                String what = growth == 1.0
                        ? "fresh U(-1,1) draw every call (the benchmark's inputs)"
                        : String.format(java.util.Locale.ROOT, "fresh draw, range x%.3f per call", growth);
                say(
                        "Delayed scaling (H=1) saturation, 2^26 elements x %d calls, %s: %d saturated, rate %.3g",
                        calls - 1, what, sat, rate);
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("saturated", sat);
                e.put("elements", n * (calls - 1));
                e.put("rate", rate);
                out.put("growth " + growth, e);
            }
        }
        return out;
    }

    /**
     * Asks cuBLASLt for INT8 × INT8 GEMMs (INT32 compute, FP32 scale) with FP32, FP16 and INT8 (documented control)
     * output, with a scalar and with a per-output-channel alpha vector; where FP32 output is offered, checks it
     * against the INT32 GEMM (alpha = 1: D = (float) acc) and against the dequant kernel (alpha vector = sx·sw).
     */
    private Map<String, Object> probe() {
        Map<String, Object> out = new LinkedHashMap<>();
        long m = 8192, n = 8192, k = 8192;
        say(
                "cuBLASLt INT8 GEMM with float output, probe at %dx%dx%d (INT8 A/B, CUBLAS_COMPUTE_32I, scale CUDA_R_32F):",
                m, n, k);
        for (GemmType t : new GemmType[] {GemmType.INT8_OUT_F32, GemmType.INT8_OUT_F16, GemmType.INT8_OUT_I8}) {
            for (boolean vec : new boolean[] {false, true}) {
                String what = t + (vec ? " alpha vector" : " scalar alpha");
                String res;
                try {
                    LtMatmul.Plan p = vec ? lt.planAlphaVector(t, m, n, k) : lt.plan(t, m, n, k, false, true);
                    res = "supported, " + p.algorithms() + " algorithm(s)";
                    if (t == GemmType.INT8_OUT_F32) {
                        if (vec) {
                            f32Vector = true;
                        } else {
                            f32Scalar = true;
                        }
                    }
                } catch (CudaException e) {
                    res = (e.status() == 15 ? "NOT_SUPPORTED: " : "error: ") + e.getMessage();
                }
                say("  %-28s %s", what, res);
                out.put(what, res);
            }
        }
        if (f32Scalar || f32Vector) {
            out.put("exactness", exactness());
        }
        return out;
    }

    private Map<String, Object> exactness() {
        int m = 1024, n = 512, k = 1024;
        Map<String, Object> out = new LinkedHashMap<>();
        try (DeviceBuffer a = operand("A8", (long) m * k, 1, Precision.INT8);
                DeviceBuffer b = operand("B8", (long) n * k, 1, Precision.INT8);
                DeviceBuffer acc = alloc.allocate("acc", 4L * m * n);
                DeviceBuffer d = alloc.allocate("d", 4L * m * n);
                DeviceBuffer ref = alloc.allocate("ref", 4L * m * n);
                DeviceBuffer sx = alloc.allocate("sx", 4);
                DeviceBuffer sw = alloc.allocate("sw", 4L * n);
                DeviceBuffer alpha = alloc.allocate("alpha", 4L * n)) {
            lt.matmul(GemmType.INT8, false, true, m, n, k, a, b, acc, null, null, s);
            s.synchronize("probe int32");
            int[] ai = acc.downloadInts(m * n);
            if (f32Scalar) {
                d.fill(0xFF);
                lt.plan(GemmType.INT8_OUT_F32, m, n, k, false, true).run(0, a, b, d, null, null, s);
                s.synchronize("probe f32");
                float[] df = d.downloadFloats(m * n);
                int mis = 0;
                for (int i = 0; i < df.length; i++) {
                    mis += Float.floatToRawIntBits(df[i]) != Float.floatToRawIntBits((float) ai[i]) ? 1 : 0;
                }
                say("  FP32-out GEMM, alpha 1, vs (float) INT32 GEMM: %d of %d differ", mis, df.length);
                out.put("scalarAlphaMismatches", mis);
            }
            if (f32Vector) {
                java.util.Random rnd = new java.util.Random(7);
                float sxv = 0.0123f;
                float[] swv = new float[n];
                float[] al = new float[n];
                for (int j = 0; j < n; j++) {
                    swv[j] = (float) (1e-3 * (0.5 + rnd.nextDouble()));
                    al[j] = sxv * swv[j];
                }
                sx.upload(new float[] {sxv});
                sw.upload(swv);
                alpha.upload(al);
                d.fill(0xFF);
                lt.planAlphaVector(GemmType.INT8_OUT_F32, m, n, k).runAlphaVector(0, a, b, d, alpha, s);
                qk.dequantizeInt32(acc, m, n, sx, sw, true, null, ref, s);
                s.synchronize("probe alpha vector");
                float[] df = d.downloadFloats(m * n);
                float[] rf = ref.downloadFloats(m * n);
                int mis = 0;
                double maxRel = 0;
                for (int i = 0; i < df.length; i++) {
                    if (Float.floatToRawIntBits(df[i]) != Float.floatToRawIntBits(rf[i])) {
                        mis++;
                        maxRel = Math.max(maxRel, Math.abs(df[i] - rf[i]) / Math.max(Math.abs(rf[i]), 1e-30));
                    }
                }
                say(
                        "  FP32-out GEMM, alpha = sx*sw[N] vector, vs dequant kernel (CPU semantics): %d of %d differ (max rel %.3g)",
                        mis, df.length, maxRel);
                out.put("alphaVectorMismatches", mis);
                out.put("alphaVectorMaxRel", maxRel);
            }
        } catch (RuntimeException e) {
            say("  exactness probe failed: %s", e.getMessage());
            out.put("error", e.getMessage());
        }
        return out;
    }
}
