package io.qsync.lowprec.cuda.check;

import io.qsync.lowprec.FloatRounding;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.ConvShape;
import io.qsync.lowprec.cuda.CudaLowPrecisionGemm;
import io.qsync.lowprec.cuda.DeviceBuffer;
import io.qsync.lowprec.cuda.GemmType;
import io.qsync.lowprec.quant.Granularity;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.IntRounding;

/** Linear-layer GEMM checks (forward, dX, dW per precision) and the convolution checks, sharing {@link GpuChecks}' state. */
final class GpuLayerChecks extends CheckContext {
    GpuLayerChecks(CheckContext shared) {
        super(shared);
    }

    /** Forward and both backward GEMMs of a linear layer at precision p, against the CPU emulation. */
    void layer(Precision p, Int8Quantizer iq, int m, int n, int k) {
        float[] x = randn(m * k, 1f);
        float[] w = randn(n * k, 0.05f);
        float[] b = randn(n, 0.1f);
        float[] dy = randn(m * n, 1e-2f);
        long stream = rnd.nextInt(1000);
        String tag = p + (iq != null ? " " + iq.granularity() + "/" + iq.rounding() : "") + " " + m + "x" + n + "x" + k;
        try (CudaLowPrecisionGemm op =
                        new CudaLowPrecisionGemm(p, iq == null ? Int8Quantizer.QSYNC_DEFAULT : iq, alloc, lt, qk);
                DeviceBuffer dx = up("x", x);
                DeviceBuffer dw = up("w", w);
                DeviceBuffer db = up("b", b);
                DeviceBuffer ddy = up("dy", dy);
                DeviceBuffer out = alloc.allocate("y", 4L * m * n);
                DeviceBuffer acc = alloc.allocate("acc", 4L * m * n);
                DeviceBuffer gx = alloc.allocate("dx", 4L * m * k);
                DeviceBuffer gw = alloc.allocate("dw", 4L * n * k);
                CudaLowPrecisionGemm.Saved sv = op.prepare(dx, dw, m, n, k, stream, s)) {
            out.fill(0xFF);
            acc.fill(0x7F);
            gx.fill(0xFF);
            gw.fill(0xFF);
            op.forward(sv, db, out, acc, s);
            op.backward(sv, ddy, gx, gw, s);
            s.synchronize("layer " + tag);
            float[] y = out.downloadFloats(m * n);
            float[] gdx = gx.downloadFloats(m * k);
            float[] gdw = gw.downloadFloats(n * k);
            // CPU emulation of the same layer
            float[] xr;
            float[] wr;
            float[] dyr;
            if (p == Precision.INT8) {
                CpuReference.Quantized qx = CpuReference.int8(x, m, k, false, iq, 2 * stream);
                CpuReference.Quantized qw =
                        CpuReference.int8(w, n, k, iq.granularity() == Granularity.PER_CHANNEL, iq, 2 * stream + 1);
                float[] ref = CpuReference.int8Forward(qx, qw, m, n, k, b);
                int mis = 0;
                for (int i = 0; i < ref.length; i++) {
                    mis += Float.floatToRawIntBits(ref[i]) != Float.floatToRawIntBits(y[i]) ? 1 : 0;
                }
                add(new CheckResult(
                        tag + " forward (INT8 GEMM + dequant + bias)",
                        "mismatches",
                        mis,
                        0,
                        CpuReference.nans(y),
                        CpuReference.nans(y),
                        y.length));
                xr = CpuReference.round(Precision.FP16, CpuReference.scaled(qx.codes(), qx.scales()[0]));
                wr = new float[w.length];
                for (int i = 0; i < w.length; i++) {
                    wr[i] = FloatRounding.roundFp16(qw.codes()[i] * qw.scales()[qw.scales().length == 1 ? 0 : i / k]);
                }
                dyr = CpuReference.round(Precision.FP16, dy);
            } else if (p == Precision.FP8_E4M3) {
                CpuReference.Quantized qx = CpuReference.fp8(x, p);
                CpuReference.Quantized qw = CpuReference.fp8(w, p);
                CpuReference.Quantized qd = CpuReference.fp8(dy, Precision.FP8_E5M2);
                xr = CpuReference.scaled(qx.codes(), qx.scales()[0]);
                wr = CpuReference.scaled(qw.codes(), qw.scales()[0]);
                dyr = CpuReference.scaled(qd.codes(), qd.scales()[0]);
                fwdCheck(tag, xr, wr, b, y, m, n, k, LOW_TOL);
            } else {
                xr = CpuReference.round(p, x);
                wr = CpuReference.round(p, w);
                dyr = CpuReference.round(p, dy);
                fwdCheck(tag, xr, wr, b, y, m, n, k, p == Precision.FP32 ? FP32_TOL : LOW_TOL);
            }
            double tol = p == Precision.FP32 ? FP32_TOL : LOW_TOL;
            double[] rdx = CpuReference.gemm(dyr, wr, m, k, n, false, false);
            double[] rdw = CpuReference.gemm(dyr, xr, n, k, m, true, false);
            add(new CheckResult(
                    tag + " dX = dY·W",
                    "relErr",
                    CpuReference.relErr(gdx, rdx),
                    tol,
                    CpuReference.nans(gdx),
                    CpuReference.nans(gdx),
                    gdx.length));
            add(new CheckResult(
                    tag + " dW = dYᵀ·X",
                    "relErr",
                    CpuReference.relErr(gdw, rdw),
                    tol,
                    CpuReference.nans(gdw),
                    CpuReference.nans(gdw),
                    gdw.length));
        }
    }

    private void fwdCheck(String tag, float[] xr, float[] wr, float[] b, float[] y, int m, int n, int k, double tol) {
        double[] ref = CpuReference.gemm(xr, wr, m, n, k, false, true);
        for (int i = 0; i < ref.length; i++) {
            ref[i] = (float) ref[i] + b[i % n];
        }
        add(new CheckResult(
                tag + " forward Y = X·Wᵀ + b",
                "relErr",
                CpuReference.relErr(y, ref),
                tol,
                CpuReference.nans(y),
                CpuReference.nans(y),
                y.length));
    }

    /** im2col (FP32 and INT8 codes, exact) and conv forward = im2col + GEMM (FP32 and INT8) against a direct convolution. */
    void conv() {
        ConvShape g = new ConvShape(4, 8, 12, 12, 16, 5, 5, 1, 1, 2, 2);
        int kPad = (g.k() + 15) / 16 * 16;
        int rows = (int) g.m();
        float[] x = randn(g.batch() * g.inC() * g.inH() * g.inW(), 1f);
        float[] w = randn(g.outC() * g.k(), 0.1f);
        float[] wPad = new float[g.outC() * kPad];
        for (int o = 0; o < g.outC(); o++) {
            System.arraycopy(w, o * g.k(), wPad, o * kPad, g.k());
        }
        try (DeviceBuffer dx = up("x", x);
                DeviceBuffer dwp = up("wPad", wPad);
                DeviceBuffer col = alloc.allocate("col", 4L * rows * kPad);
                DeviceBuffer y = alloc.allocate("y", 4L * rows * g.outC())) {
            col.fill(0xFF);
            qk.im2col(dx, g, kPad, false, col, s);
            y.fill(0xFF);
            lt.matmul(GemmType.FP32, false, true, rows, g.outC(), kPad, col, dwp, y, null, null, s);
            s.synchronize("conv fp32");
            float[] gy = y.downloadFloats(rows * g.outC());
            double[] ref = CpuReference.conv(x, w, g);
            add(new CheckResult(
                    "conv FP32 im2col+GEMM " + g,
                    "relErr",
                    CpuReference.relErr(gy, ref),
                    FP32_TOL,
                    CpuReference.nans(gy),
                    CpuReference.nans(gy),
                    gy.length));
            // INT8: quantize NCHW input per tensor, im2col on the 1-byte codes, weights per output channel
            Int8Quantizer iq = new Int8Quantizer(Granularity.PER_CHANNEL, IntRounding.NEAREST, 0L);
            try (DeviceBuffer xq = alloc.allocate("xq", x.length);
                    DeviceBuffer colq = alloc.allocate("colq", (long) rows * kPad);
                    DeviceBuffer wq = alloc.allocate("wq", (long) g.outC() * kPad);
                    DeviceBuffer am = alloc.allocate("am", 4);
                    DeviceBuffer sx = alloc.allocate("sx", 4);
                    DeviceBuffer sw = alloc.allocate("sw", 4L * g.outC());
                    DeviceBuffer acc = alloc.allocate("acc", 4L * rows * g.outC())) {
                qk.amaxQuantizeInt8(dx, x.length, am, xq, sx, iq.rounding(), 0L, 0L, s);
                colq.fill(0x80);
                qk.im2col(xq, g, kPad, true, colq, s);
                qk.quantizeInt8Rows(dwp, g.outC(), kPad, wq, sw, iq.rounding(), 0L, 1L, s);
                acc.fill(0x7F);
                lt.matmul(GemmType.INT8, false, true, rows, g.outC(), kPad, colq, wq, acc, null, null, s);
                y.fill(0xFF);
                qk.dequantizeInt32(acc, rows, g.outC(), sx, sw, true, null, y, s);
                s.synchronize("conv int8");
                float[] gq = y.downloadFloats(rows * g.outC());
                CpuReference.Quantized qx = CpuReference.int8(x, 1, x.length, false, iq, 0L);
                CpuReference.Quantized qw = CpuReference.int8(wPad, g.outC(), kPad, true, iq, 1L);
                float[] qwUnpadded = new float[w.length];
                for (int o = 0; o < g.outC(); o++) {
                    System.arraycopy(qw.codes(), o * kPad, qwUnpadded, o * g.k(), g.k());
                }
                double[] accRef = CpuReference.conv(qx.codes(), qwUnpadded, g);
                int mis = 0;
                for (int i = 0; i < accRef.length; i++) {
                    float r = (float) accRef[i] * (qx.scales()[0] * qw.scales()[i % g.outC()]);
                    mis += Float.floatToRawIntBits(r) != Float.floatToRawIntBits(gq[i]) ? 1 : 0;
                }
                add(new CheckResult(
                        "conv INT8 quantize+im2col(int8)+GEMM+dequant " + g,
                        "mismatches",
                        mis,
                        0,
                        CpuReference.nans(gq),
                        CpuReference.nans(gq),
                        gq.length));
            }
        }
    }
}
