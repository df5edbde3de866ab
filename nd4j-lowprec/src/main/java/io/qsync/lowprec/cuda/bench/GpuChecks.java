package io.qsync.lowprec.cuda.bench;

import io.qsync.lowprec.FloatCodec;
import io.qsync.lowprec.FloatRounding;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.ConvShape;
import io.qsync.lowprec.cuda.CudaLowPrecisionGemm;
import io.qsync.lowprec.cuda.CudaStream;
import io.qsync.lowprec.cuda.DeviceAllocator;
import io.qsync.lowprec.cuda.DeviceBuffer;
import io.qsync.lowprec.cuda.GemmType;
import io.qsync.lowprec.cuda.LtMatmul;
import io.qsync.lowprec.cuda.QuantKernels;
import io.qsync.lowprec.quant.Granularity;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.IntRounding;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Every GPU op against the pure-Java CPU emulation ({@link CpuReference}) on fresh random inputs, outputs poisoned
 * before each run (0xFF bytes: NaN for float formats; 0x80 = −128 for INT8 codes, never a valid code).
 */
public final class GpuChecks {
    private static final double FP32_TOL = 1e-6;
    private static final double LOW_TOL = 1e-3;
    private final DeviceAllocator alloc;
    private final LtMatmul lt;
    private final QuantKernels qk;
    private final CudaStream s;
    private final Random rnd;
    private final boolean fp8;
    private final List<CheckResult> results = new ArrayList<>();

    /**
     * @param seed input seed (printed by the harness so a failure can be replayed)
     * @param fp8  device supports FP8 GEMMs (cc ≥ 8.9)
     */
    public GpuChecks(DeviceAllocator alloc, LtMatmul lt, QuantKernels qk, CudaStream s, long seed, boolean fp8) {
        this.alloc = alloc;
        this.lt = lt;
        this.qk = qk;
        this.s = s;
        this.rnd = new Random(seed);
        this.fp8 = fp8;
    }

    /** Runs all checks. @return their results */
    public List<CheckResult> runAll() {
        casts();
        decodeAll();
        int8Quant();
        fp8Quant();
        int gm = 256, gn = 384, gk = 528;
        for (Precision p : new Precision[] {Precision.FP32, Precision.TF32, Precision.FP16, Precision.BF16}) {
            layer(p, null, gm, gn, gk);
        }
        layer(Precision.INT8, new Int8Quantizer(Granularity.PER_TENSOR, IntRounding.TRUNCATE, 0L), gm, gn, gk);
        layer(Precision.INT8, new Int8Quantizer(Granularity.PER_CHANNEL, IntRounding.STOCHASTIC, rnd.nextLong()), gm, gn, gk);
        layer(Precision.INT8, new Int8Quantizer(Granularity.PER_CHANNEL, IntRounding.NEAREST, 0L), 4096, 64, 1056);
        if (fp8) {
            layer(Precision.FP8_E4M3, null, gm, gn, gk);
        }
        conv();
        return results;
    }

    private float[] randn(int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * scale * (rnd.nextInt(50) == 0 ? 8 : 1));
        }
        return x;
    }

    /** Values across FP16's and FP8's normal and subnormal ranges, ties included. */
    private float[] wideRange(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            float v = (float) Math.scalb(1.0 + rnd.nextDouble(), rnd.nextInt(48) - 30);
            if (i % 7 == 0) {
                v = Float.intBitsToFloat(Float.floatToRawIntBits(v) & ~0xFFF | 0x1000); // exact ties for 13-bit drops
            }
            x[i] = rnd.nextBoolean() ? v : -v;
        }
        return x;
    }

    private DeviceBuffer up(String name, float[] x) {
        DeviceBuffer b = alloc.allocate(name, 4L * x.length);
        b.upload(x);
        return b;
    }

    private void add(CheckResult r) {
        results.add(r);
        System.out.println(r.row());
    }

    private static int nanOrPoison16(short[] v) {
        int c = 0;
        for (short x : v) {
            if ((x & 0xFFFF) == 0xFFFF) {
                c++;
            }
        }
        return c;
    }

    private void casts() {
        int n = 1 << 20 | 3;  // odd length: vector body and scalar tail
        float[] x = wideRange(n);
        x[5] = 0f;
        x[6] = -0f;
        x[8] = 70000f;
        x[9] = -1e30f;
        float[] edge = {65504f, 65519f, 65520f, 448f, 464f, 480f, 57344f, 59392f, 61440f, 6.1035156e-05f, 5.9604645e-08f};
        int at = 10;
        for (float e : edge) {
            x[at++] = e;
            x[at++] = -e;
        }
        // exact ties between neighbours: normal range (dropping 13, 20, 21 mantissa bits) and subnormal range
        // (odd multiples of half the subnormal spacing: FP16 2^-25, E4M3 2^-10, E5M2 2^-17)
        for (int i = 0; i < 3000; i++, at++) {
            int bits = Float.floatToRawIntBits(x[at]);
            switch (i % 6) {
                case 0 -> x[at] = Float.intBitsToFloat(bits & ~0xFFFFF | 0x80000);
                case 1 -> x[at] = Float.intBitsToFloat(bits & ~0x1FFFFF | 0x100000);
                case 2 -> x[at] = Float.intBitsToFloat(bits & ~0x1FFF | 0x1000);
                case 3 -> x[at] = Math.scalb((float) (2 * rnd.nextInt(1023) + 1), -25);
                case 4 -> x[at] = Math.scalb((float) (2 * rnd.nextInt(7) + 1), -10);
                default -> x[at] = Math.scalb((float) (2 * rnd.nextInt(3) + 1), -17);
            }
            if (rnd.nextBoolean()) {
                x[at] = -x[at];
            }
        }
        try (DeviceBuffer dx = up("x", x); DeviceBuffer o32 = alloc.allocate("o32", 4L * n);
             DeviceBuffer o16 = alloc.allocate("o16", 2L * n); DeviceBuffer o8 = alloc.allocate("o8", n);
             DeviceBuffer back = alloc.allocate("back", 4L * n)) {
            o32.fill(0xFF);
            qk.cast(dx, n, Precision.TF32, o32, s);
            s.synchronize("cast TF32");
            float[] g = o32.downloadFloats(n);
            int mis = 0;
            for (int i = 0; i < n; i++) {
                mis += Float.floatToRawIntBits(g[i]) != Float.floatToRawIntBits(FloatRounding.roundTf32(x[i])) ? 1 : 0;
            }
            add(new CheckResult("cast FP32->TF32 (RNE)", "mismatches", mis, 0, CpuReference.nans(g), CpuReference.nans(g), n));
            for (Precision p : new Precision[] {Precision.FP16, Precision.BF16}) {
                o16.fill(0xFF);
                qk.cast(dx, n, p, o16, s);
                back.fill(0xFF);
                qk.widen16(o16, n, p, back, s);
                s.synchronize("cast " + p);
                short[] h = o16.downloadShorts(n);
                float[] w = back.downloadFloats(n);
                int m1 = 0;
                int m2 = 0;
                for (int i = 0; i < n; i++) {
                    short ref = p == Precision.FP16 ? FloatCodec.encodeFp16(x[i]) : FloatCodec.encodeBf16(x[i]);
                    m1 += h[i] != ref ? 1 : 0;
                    m2 += Float.floatToRawIntBits(w[i]) != Float.floatToRawIntBits(FloatRounding.round(p, x[i])) ? 1 : 0;
                }
                add(new CheckResult("cast FP32->" + p + " bits", "mismatches", m1, 0, 0, nanOrPoison16(h), n));
                add(new CheckResult("cast " + p + "->FP32 (of the above)", "mismatches", m2, 0, CpuReference.nans(w), 0, n));
            }
            for (Precision p : new Precision[] {Precision.FP8_E4M3, Precision.FP8_E5M2}) {
                o8.fill(0xFF);
                qk.cast(dx, n, p, o8, s);
                s.synchronize("cast " + p);
                byte[] b = o8.downloadBytes(n);
                int mis8 = 0;
                int poison = 0;
                for (int i = 0; i < n; i++) {
                    byte ref = p == Precision.FP8_E4M3 ? FloatCodec.encodeE4M3(x[i]) : FloatCodec.encodeE5M2(x[i]);
                    mis8 += b[i] != ref ? 1 : 0;
                    poison += b[i] == (byte) 0xFF ? 1 : 0;
                }
                add(new CheckResult("cast FP32->" + p + " bits (unscaled)", "mismatches", mis8, 0, 0, poison, n));
            }
        }
    }

    private void decodeAll() {
        short[] all16 = new short[65536];
        for (int i = 0; i < 65536; i++) {
            all16[i] = (short) i;
        }
        byte[] all8 = new byte[256];
        for (int i = 0; i < 256; i++) {
            all8[i] = (byte) i;
        }
        try (DeviceBuffer d16 = alloc.allocate("all16", 2L * 65536); DeviceBuffer d8 = alloc.allocate("all8", 256);
             DeviceBuffer out = alloc.allocate("decoded", 4L * 65536)) {
            d16.upload(all16);
            d8.upload(all8);
            for (Precision p : new Precision[] {Precision.FP16, Precision.BF16, Precision.FP8_E4M3, Precision.FP8_E5M2}) {
                boolean is16 = p.storageBytes() == 2;
                int n = is16 ? 65536 : 256;
                out.fill(0x7F);
                if (is16) {
                    qk.widen16(d16, n, p, out, s);
                } else {
                    qk.dequantizeFp8(d8, n, p, null, out, s);
                }
                s.synchronize("decode " + p);
                float[] g = out.downloadFloats(n);
                int mis = 0;
                int poison = 0;
                for (int i = 0; i < n; i++) {
                    float ref = switch (p) {
                        case FP16 -> FloatCodec.decodeFp16((short) i);
                        case BF16 -> FloatCodec.decodeBf16((short) i);
                        case FP8_E4M3 -> FloatCodec.decodeE4M3((byte) i);
                        default -> FloatCodec.decodeE5M2((byte) i);
                    };
                    boolean same = (ref != ref && g[i] != g[i]) || Float.floatToRawIntBits(ref) == Float.floatToRawIntBits(g[i]);
                    mis += same ? 0 : 1;
                    poison += Float.floatToRawIntBits(g[i]) == 0x7F7F7F7F ? 1 : 0;
                }
                add(new CheckResult("decode every " + p + " code", "mismatches", mis, 0, 0, poison, n));
            }
        }
    }

    private void int8Quant() {
        int rows = 96;
        int cols = 1001;  // odd: scalar tail of the vectorised kernel
        int n = rows * cols;
        float[] x = randn(n, 0.7f);
        for (int r = 5; r < 7; r++) {
            for (int c = 0; c < cols; c++) {
                x[r * cols + c] = 0f;  // all-zero channels: scale 1
            }
        }
        try (DeviceBuffer dx = up("x", x); DeviceBuffer q = alloc.allocate("q", n); DeviceBuffer am = alloc.allocate("amax", 4);
             DeviceBuffer sc = alloc.allocate("scales", 4L * rows); DeviceBuffer deq = alloc.allocate("deq", 4L * n)) {
            qk.amax(dx, n, am, s);
            s.synchronize("amax");
            float gAmax = Float.intBitsToFloat(am.downloadInts(1)[0]);
            add(new CheckResult("amax", "mismatches", gAmax == CpuReference.amax(x) ? 0 : 1, 0, 0, 0, 1));
            for (boolean perRow : new boolean[] {false, true}) {
                for (IntRounding r : IntRounding.values()) {
                    Int8Quantizer iq = new Int8Quantizer(perRow ? Granularity.PER_CHANNEL : Granularity.PER_TENSOR, r, rnd.nextLong());
                    long stream = rnd.nextInt(1000);
                    q.fill(0x80);
                    sc.fill(0xFF);
                    if (perRow) {
                        qk.quantizeInt8Rows(dx, rows, cols, q, sc, r, iq.seed(), stream, s);
                    } else {
                        qk.amaxQuantizeInt8(dx, n, am, q, sc, r, iq.seed(), stream, s);
                    }
                    deq.fill(0xFF);
                    qk.dequantizeInt8(q, n, perRow ? cols : 1, perRow ? rows : 1, sc, false, deq, s);
                    s.synchronize("quantize int8");
                    byte[] g = q.downloadBytes(n);
                    float[] gs = sc.downloadFloats(perRow ? rows : 1);
                    float[] gd = deq.downloadFloats(n);
                    CpuReference.Quantized ref = CpuReference.int8(x, rows, cols, perRow, iq, stream);
                    int mis = 0;
                    int poison = 0;
                    int dmis = 0;
                    for (int i = 0; i < n; i++) {
                        mis += g[i] != (byte) ref.codes()[i] ? 1 : 0;
                        poison += g[i] == (byte) 0x80 ? 1 : 0;
                        float dref = ref.codes()[i] * ref.scales()[perRow ? i / cols : 0];
                        // compared by value: the CPU keeps a code of -0.0 (Math.rint(-0.3)); an int8 code has no -0
                        dmis += gd[i] != dref ? 1 : 0;
                    }
                    for (int c = 0; c < gs.length; c++) {
                        mis += Float.floatToRawIntBits(gs[c]) != Float.floatToRawIntBits(ref.scales()[c]) ? 1 : 0;
                    }
                    String what = "INT8 quantize " + (perRow ? "per-channel (fused amax)" : "per-tensor") + " " + r;
                    add(new CheckResult(what + " codes+scales", "mismatches", mis, 0, 0, poison, n));
                    add(new CheckResult(what + " dequantize FP32", "mismatches", dmis, 0, CpuReference.nans(gd), 0, n));
                    try (DeviceBuffer h = alloc.allocate("deq16", 2L * n)) {
                        h.fill(0xFF);
                        qk.dequantizeInt8(q, n, perRow ? cols : 1, perRow ? rows : 1, sc, true, h, s);
                        s.synchronize("dequantize int8 to fp16");
                        short[] gh = h.downloadShorts(n);
                        int hmis = 0;
                        for (int i = 0; i < n; i++) {
                            float dref = FloatRounding.roundFp16(ref.codes()[i] * ref.scales()[perRow ? i / cols : 0]);
                            hmis += FloatCodec.decodeFp16(gh[i]) != dref ? 1 : 0;  // by value: -0 as above
                        }
                        add(new CheckResult(what + " dequantize FP16", "mismatches", hmis, 0, 0, nanOrPoison16(gh), n));
                    }
                }
            }
        }
    }

    private void fp8Quant() {
        int n = 300001;
        float[] x = randn(n, 3e-3f);
        try (DeviceBuffer dx = up("x", x); DeviceBuffer q = alloc.allocate("q8", n); DeviceBuffer am = alloc.allocate("amax", 4);
             DeviceBuffer sc = alloc.allocate("scale", 4); DeviceBuffer deq = alloc.allocate("deq", 4L * n)) {
            for (Precision p : new Precision[] {Precision.FP8_E4M3, Precision.FP8_E5M2}) {
                q.fill(0xFF);
                qk.amax(dx, n, am, s);
                qk.quantizeFp8(dx, n, p, am, sc, q, s);
                deq.fill(0xFF);
                qk.dequantizeFp8(q, n, p, sc, deq, s);
                s.synchronize("quantize " + p);
                byte[] g = q.downloadBytes(n);
                float gs = sc.downloadFloats(1)[0];
                float[] gd = deq.downloadFloats(n);
                CpuReference.Quantized ref = CpuReference.fp8(x, p);
                int mis = Float.floatToRawIntBits(gs) != Float.floatToRawIntBits(ref.scales()[0]) ? 1 : 0;
                int dmis = 0;
                for (int i = 0; i < n; i++) {
                    byte rb = p == Precision.FP8_E4M3 ? FloatCodec.encodeE4M3(ref.codes()[i]) : FloatCodec.encodeE5M2(ref.codes()[i]);
                    mis += g[i] != rb ? 1 : 0;
                    dmis += Float.floatToRawIntBits(gd[i]) != Float.floatToRawIntBits(ref.codes()[i] * ref.scales()[0]) ? 1 : 0;
                }
                add(new CheckResult(p + " quantize (amax-scaled) codes+scale", "mismatches", mis, 0, 0, 0, n));
                add(new CheckResult(p + " dequantize", "mismatches", dmis, 0, CpuReference.nans(gd), 0, n));
            }
        }
    }

    /** Forward and both backward GEMMs of a linear layer at precision p, against the CPU emulation. */
    private void layer(Precision p, Int8Quantizer iq, int m, int n, int k) {
        float[] x = randn(m * k, 1f);
        float[] w = randn(n * k, 0.05f);
        float[] b = randn(n, 0.1f);
        float[] dy = randn(m * n, 1e-2f);
        long stream = rnd.nextInt(1000);
        CudaLowPrecisionGemm op = new CudaLowPrecisionGemm(p, iq == null ? Int8Quantizer.QSYNC_DEFAULT : iq, alloc, lt, qk);
        String tag = p + (iq != null ? " " + iq.granularity() + "/" + iq.rounding() : "") + " " + m + "x" + n + "x" + k;
        try (DeviceBuffer dx = up("x", x); DeviceBuffer dw = up("w", w); DeviceBuffer db = up("b", b); DeviceBuffer ddy = up("dy", dy);
             DeviceBuffer out = alloc.allocate("y", 4L * m * n); DeviceBuffer acc = alloc.allocate("acc", 4L * m * n);
             DeviceBuffer gx = alloc.allocate("dx", 4L * m * k); DeviceBuffer gw = alloc.allocate("dw", 4L * n * k);
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
                CpuReference.Quantized qw = CpuReference.int8(w, n, k, iq.granularity() == Granularity.PER_CHANNEL, iq, 2 * stream + 1);
                float[] ref = CpuReference.int8Forward(qx, qw, m, n, k, b);
                int mis = 0;
                for (int i = 0; i < ref.length; i++) {
                    mis += Float.floatToRawIntBits(ref[i]) != Float.floatToRawIntBits(y[i]) ? 1 : 0;
                }
                add(new CheckResult(tag + " forward (INT8 GEMM + dequant + bias)", "mismatches", mis, 0, CpuReference.nans(y), CpuReference.nans(y), y.length));
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
            add(new CheckResult(tag + " dX = dY·W", "relErr", CpuReference.relErr(gdx, rdx), tol, CpuReference.nans(gdx), CpuReference.nans(gdx), gdx.length));
            add(new CheckResult(tag + " dW = dYᵀ·X", "relErr", CpuReference.relErr(gdw, rdw), tol, CpuReference.nans(gdw), CpuReference.nans(gdw), gdw.length));
        }
    }

    private void fwdCheck(String tag, float[] xr, float[] wr, float[] b, float[] y, int m, int n, int k, double tol) {
        double[] ref = CpuReference.gemm(xr, wr, m, n, k, false, true);
        for (int i = 0; i < ref.length; i++) {
            ref[i] = (float) ref[i] + b[i % n];
        }
        add(new CheckResult(tag + " forward Y = X·Wᵀ + b", "relErr", CpuReference.relErr(y, ref), tol, CpuReference.nans(y), CpuReference.nans(y), y.length));
    }

    /** im2col (FP32 and INT8 codes, exact) and conv forward = im2col + GEMM (FP32 and INT8) against a direct convolution. */
    private void conv() {
        ConvShape g = new ConvShape(4, 8, 12, 12, 16, 5, 5, 1, 1, 2, 2);
        int kPad = (g.k() + 15) / 16 * 16;
        int rows = (int) g.m();
        float[] x = randn(g.batch() * g.inC() * g.inH() * g.inW(), 1f);
        float[] w = randn(g.outC() * g.k(), 0.1f);
        float[] wPad = new float[g.outC() * kPad];
        for (int o = 0; o < g.outC(); o++) {
            System.arraycopy(w, o * g.k(), wPad, o * kPad, g.k());
        }
        try (DeviceBuffer dx = up("x", x); DeviceBuffer dwp = up("wPad", wPad); DeviceBuffer col = alloc.allocate("col", 4L * rows * kPad);
             DeviceBuffer y = alloc.allocate("y", 4L * rows * g.outC())) {
            col.fill(0xFF);
            qk.im2col(dx, g, kPad, false, col, s);
            y.fill(0xFF);
            lt.matmul(GemmType.FP32, false, true, rows, g.outC(), kPad, col, dwp, y, null, null, s);
            s.synchronize("conv fp32");
            float[] gy = y.downloadFloats(rows * g.outC());
            double[] ref = CpuReference.conv(x, w, g);
            add(new CheckResult("conv FP32 im2col+GEMM " + g, "relErr", CpuReference.relErr(gy, ref), FP32_TOL, CpuReference.nans(gy), CpuReference.nans(gy), gy.length));
            // INT8: quantize NCHW input per tensor, im2col on the 1-byte codes, weights per output channel
            Int8Quantizer iq = new Int8Quantizer(Granularity.PER_CHANNEL, IntRounding.NEAREST, 0L);
            try (DeviceBuffer xq = alloc.allocate("xq", x.length); DeviceBuffer colq = alloc.allocate("colq", (long) rows * kPad);
                 DeviceBuffer wq = alloc.allocate("wq", (long) g.outC() * kPad); DeviceBuffer am = alloc.allocate("am", 4);
                 DeviceBuffer sx = alloc.allocate("sx", 4); DeviceBuffer sw = alloc.allocate("sw", 4L * g.outC());
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
                add(new CheckResult("conv INT8 quantize+im2col(int8)+GEMM+dequant " + g, "mismatches", mis, 0, CpuReference.nans(gq), CpuReference.nans(gq), gq.length));
            }
        }
    }
}
