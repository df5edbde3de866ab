package io.qsync.lowprec.cuda.check;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.CudaLowPrecisionGemm;
import io.qsync.lowprec.cuda.DelayedInt8Scaler;
import io.qsync.lowprec.cuda.DeviceBuffer;
import io.qsync.lowprec.quant.Granularity;
import io.qsync.lowprec.quant.Int8DelayedScaling;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.IntRounding;

/**
 * The opt-in delayed INT8 activation scaling against its CPU emulation ({@link Int8DelayedScaling}), bit for bit, over
 * 3 consecutive calls on the same inputs (the second call's range 1.6× the first's, so it saturates; the third's
 * 0.7×): the fused kernel (codes, scale, recorded amax, saturation count) for every rounding mode and H = 1, 3, and
 * the layer op ({@link CudaLowPrecisionGemm} with delayed scaling: forward output and X's scale). Also prints what
 * delayed scaling changes numerically: the relative quantization error of X, delayed vs QSync's dynamic scale.
 */
final class GpuDelayedScalingChecks extends CheckContext {
    private static final float[] RANGE = {1f, 1.6f, 0.7f};

    GpuDelayedScalingChecks(CheckContext shared) {
        super(shared);
    }

    void runAll() {
        for (int h : new int[] {1, 3}) {
            for (IntRounding r : IntRounding.values()) {
                kernel(h, r);
            }
        }
        layer(new Int8Quantizer(Granularity.PER_CHANNEL, IntRounding.TRUNCATE, 0L), 256, 384, 528);
        layer(new Int8Quantizer(Granularity.PER_TENSOR, IntRounding.STOCHASTIC, rnd.nextLong()), 256, 384, 528);
    }

    /** ‖x − s·q‖ / ‖x‖. */
    private static double quantError(float[] x, float[] codes, float s) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < x.length; i++) {
            double e = x[i] - (double) codes[i] * s;
            num += e * e;
            den += (double) x[i] * x[i];
        }
        return Math.sqrt(num / den);
    }

    private void kernel(int h, IntRounding r) {
        int n = 99 * 1001; // n % 4 == 3: the vectorised kernel's scalar tail (3 elements of the last hash group)
        Int8Quantizer iq = new Int8Quantizer(Granularity.PER_TENSOR, r, rnd.nextLong());
        long stream = rnd.nextInt(1000);
        Int8DelayedScaling cpu = new Int8DelayedScaling(iq, h);
        int mis = 0;
        int poison = 0;
        StringBuilder info = new StringBuilder();
        try (DeviceBuffer q = alloc.allocate("q", n);
                DeviceBuffer sc = alloc.allocate("scale", 4);
                DelayedInt8Scaler gpu = new DelayedInt8Scaler(alloc, qk, h)) {
            long satBefore = 0;
            for (int c = 0; c < RANGE.length; c++) {
                float[] x = randn(n, 0.7f * RANGE[c]);
                try (DeviceBuffer dx = up("x", x)) {
                    q.fill(0x80);
                    sc.fill(0xFF);
                    gpu.quantize(dx, n, q, sc, r, iq.seed(), stream, s);
                    s.synchronize("delayed quantize");
                }
                byte[] g = q.downloadBytes(n);
                float gs = sc.downloadFloats(1)[0];
                float ga = gpu.lastAmax();
                long sat = gpu.saturatedTotal();
                long gsat = sat - satBefore;
                satBefore = sat;
                Int8DelayedScaling.Result ref = cpu.quantize(x, stream);
                for (int i = 0; i < n; i++) {
                    mis += g[i] != (byte) ref.codes()[i] ? 1 : 0;
                    poison += g[i] == (byte) 0x80 ? 1 : 0;
                }
                mis += Float.floatToRawIntBits(gs) != Float.floatToRawIntBits(ref.scale()) ? 1 : 0;
                mis += Float.floatToRawIntBits(ga) != Float.floatToRawIntBits(ref.amax()) ? 1 : 0;
                mis += gsat != ref.saturated() ? 1 : 0;
                CpuReference.Quantized dyn = CpuReference.int8(x, 1, n, false, iq, stream);
                info.append(String.format(
                        java.util.Locale.ROOT,
                        " call %d: saturated %d (CPU %d) = %.2g, X error delayed %.4g vs dynamic %.4g;",
                        c + 1,
                        gsat,
                        ref.saturated(),
                        ref.saturated() / (double) n,
                        quantError(x, ref.codes(), ref.scale()),
                        quantError(x, dyn.codes(), dyn.scales()[0])));
            }
        }
        System.out.println("  delayed scaling H=" + h + " " + r + ":" + info);
        add(new CheckResult(
                "INT8 delayed scaling H=" + h + " " + r + ", 3 calls: codes+scale+amax+saturation count",
                "mismatches",
                mis,
                0,
                0,
                poison,
                3L * n));
    }

    private void layer(Int8Quantizer iq, int m, int n, int k) {
        float[] w = randn(n * k, 0.05f);
        float[] b = randn(n, 0.1f);
        long stream = rnd.nextInt(1000);
        boolean pc = iq.granularity() == Granularity.PER_CHANNEL;
        Int8DelayedScaling cpu = new Int8DelayedScaling(iq, 1);
        int mis = 0;
        int nans = 0;
        String tag = "INT8 " + iq.granularity() + "/" + iq.rounding() + " " + m + "x" + n + "x" + k;
        try (CudaLowPrecisionGemm op = new CudaLowPrecisionGemm(Precision.INT8, iq, alloc, lt, qk, 1);
                DeviceBuffer dw = up("w", w);
                DeviceBuffer db = up("b", b);
                DeviceBuffer out = alloc.allocate("y", 4L * m * n);
                DeviceBuffer acc = alloc.allocate("acc", 4L * m * n)) {
            for (int c = 0; c < RANGE.length; c++) {
                float[] x = randn(m * k, RANGE[c]);
                float[] y;
                float gsx;
                try (DeviceBuffer dx = up("x", x);
                        CudaLowPrecisionGemm.Saved sv = op.prepare(dx, dw, m, n, k, stream, s)) {
                    out.fill(0xFF);
                    acc.fill(0x7F);
                    op.forward(sv, db, out, acc, s);
                    s.synchronize("delayed layer " + tag);
                    y = out.downloadFloats(m * n);
                    gsx = sv.sx.downloadFloats(1)[0];
                }
                Int8DelayedScaling.Result rx = cpu.quantize(x, 2 * stream);
                CpuReference.Quantized qw = CpuReference.int8(w, n, k, pc, iq, 2 * stream + 1);
                float[] ref = CpuReference.int8Forward(
                        new CpuReference.Quantized(rx.codes(), new float[] {rx.scale()}), qw, m, n, k, b);
                for (int i = 0; i < ref.length; i++) {
                    mis += Float.floatToRawIntBits(ref[i]) != Float.floatToRawIntBits(y[i]) ? 1 : 0;
                }
                mis += Float.floatToRawIntBits(gsx) != Float.floatToRawIntBits(rx.scale()) ? 1 : 0;
                nans += CpuReference.nans(y);
            }
        }
        add(new CheckResult(
                tag + " layer forward, delayed scaling H=1, 3 calls (INT8 GEMM + dequant + bias)",
                "mismatches",
                mis,
                0,
                nans,
                nans,
                3L * m * n));
    }
}
