package io.qsync.lowprec.cuda.check;

import io.qsync.lowprec.FloatCodec;
import io.qsync.lowprec.FloatRounding;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.CudaStream;
import io.qsync.lowprec.cuda.DeviceAllocator;
import io.qsync.lowprec.cuda.DeviceBuffer;
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
 * before each run (0xFF bytes: NaN for float formats; 0x80 = −128 for INT8 codes, never a valid code). This class
 * holds the cast, decode and quantize checks; the layer GEMM and convolution checks are in {@link GpuLayerChecks}.
 */
public final class GpuChecks extends CheckContext {
    /**
     * @param seed input seed (printed by the harness so a failure can be replayed)
     * @param fp8  device supports FP8 GEMMs (cc ≥ 8.9)
     */
    public GpuChecks(DeviceAllocator alloc, LtMatmul lt, QuantKernels qk, CudaStream s, long seed, boolean fp8) {
        super(alloc, lt, qk, s, new Random(seed), fp8, new ArrayList<>());
    }

    /** Runs all checks. @return their results */
    public List<CheckResult> runAll() {
        casts();
        decodeAll();
        int8Quant();
        fp8Quant();
        new GpuDelayedScalingChecks(this).runAll();
        GpuLayerChecks layers = new GpuLayerChecks(this);
        int gm = 256, gn = 384, gk = 528;
        for (Precision p : new Precision[] {Precision.FP32, Precision.TF32, Precision.FP16, Precision.BF16}) {
            layers.layer(p, null, gm, gn, gk);
        }
        layers.layer(Precision.INT8, new Int8Quantizer(Granularity.PER_TENSOR, IntRounding.TRUNCATE, 0L), gm, gn, gk);
        layers.layer(
                Precision.INT8,
                new Int8Quantizer(Granularity.PER_CHANNEL, IntRounding.STOCHASTIC, rnd.nextLong()),
                gm,
                gn,
                gk);
        layers.layer(
                Precision.INT8, new Int8Quantizer(Granularity.PER_CHANNEL, IntRounding.NEAREST, 0L), 4096, 64, 1056);
        if (fp8) {
            layers.layer(Precision.FP8_E4M3, null, gm, gn, gk);
        }
        layers.conv();
        return results;
    }

    private void casts() {
        int n = 1 << 20 | 3; // odd length: vector body and scalar tail
        float[] x = wideRange(n);
        x[5] = 0f;
        x[6] = -0f;
        x[8] = 70000f;
        x[9] = -1e30f;
        float[] edge = {65504f, 65519f, 65520f, 448f, 464f, 480f, 57344f, 59392f, 61440f, 6.1035156e-05f, 5.9604645e-08f
        };
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
        try (DeviceBuffer dx = up("x", x);
                DeviceBuffer o32 = alloc.allocate("o32", 4L * n);
                DeviceBuffer o16 = alloc.allocate("o16", 2L * n);
                DeviceBuffer o8 = alloc.allocate("o8", n);
                DeviceBuffer back = alloc.allocate("back", 4L * n)) {
            o32.fill(0xFF);
            qk.cast(dx, n, Precision.TF32, o32, s);
            s.synchronize("cast TF32");
            float[] g = o32.downloadFloats(n);
            int mis = 0;
            for (int i = 0; i < n; i++) {
                mis += Float.floatToRawIntBits(g[i]) != Float.floatToRawIntBits(FloatRounding.roundTf32(x[i])) ? 1 : 0;
            }
            add(new CheckResult(
                    "cast FP32->TF32 (RNE)", "mismatches", mis, 0, CpuReference.nans(g), CpuReference.nans(g), n));
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
                    m2 += Float.floatToRawIntBits(w[i]) != Float.floatToRawIntBits(FloatRounding.round(p, x[i]))
                            ? 1
                            : 0;
                }
                add(new CheckResult("cast FP32->" + p + " bits", "mismatches", m1, 0, 0, nanOrPoison16(h), n));
                add(new CheckResult(
                        "cast " + p + "->FP32 (of the above)", "mismatches", m2, 0, CpuReference.nans(w), 0, n));
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
        try (DeviceBuffer d16 = alloc.allocate("all16", 2L * 65536);
                DeviceBuffer d8 = alloc.allocate("all8", 256);
                DeviceBuffer out = alloc.allocate("decoded", 4L * 65536)) {
            d16.upload(all16);
            d8.upload(all8);
            for (Precision p :
                    new Precision[] {Precision.FP16, Precision.BF16, Precision.FP8_E4M3, Precision.FP8_E5M2}) {
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
                    float ref =
                            switch (p) {
                                case FP16 -> FloatCodec.decodeFp16((short) i);
                                case BF16 -> FloatCodec.decodeBf16((short) i);
                                case FP8_E4M3 -> FloatCodec.decodeE4M3((byte) i);
                                default -> FloatCodec.decodeE5M2((byte) i);
                            };
                    boolean same = (ref != ref && g[i] != g[i])
                            || Float.floatToRawIntBits(ref) == Float.floatToRawIntBits(g[i]);
                    mis += same ? 0 : 1;
                    poison += Float.floatToRawIntBits(g[i]) == 0x7F7F7F7F ? 1 : 0;
                }
                add(new CheckResult("decode every " + p + " code", "mismatches", mis, 0, 0, poison, n));
            }
        }
    }

    private void int8Quant() {
        int rows = 99;
        int cols =
                1001; // odd: the per-row kernel's scalar path; rows·cols % 4 == 3: the per-tensor kernel's scalar tail
        int n = rows * cols;
        float[] x = randn(n, 0.7f);
        for (int r = 5; r < 7; r++) {
            for (int c = 0; c < cols; c++) {
                x[r * cols + c] = 0f; // all-zero channels: scale 1
            }
        }
        try (DeviceBuffer dx = up("x", x);
                DeviceBuffer q = alloc.allocate("q", n);
                DeviceBuffer am = alloc.allocate("amax", 4);
                DeviceBuffer sc = alloc.allocate("scales", 4L * rows);
                DeviceBuffer deq = alloc.allocate("deq", 4L * n)) {
            qk.amax(dx, n, am, s);
            s.synchronize("amax");
            float gAmax = Float.intBitsToFloat(am.downloadInts(1)[0]);
            add(new CheckResult("amax", "mismatches", gAmax == CpuReference.amax(x) ? 0 : 1, 0, 0, 0, 1));
            for (boolean perRow : new boolean[] {false, true}) {
                for (IntRounding r : IntRounding.values()) {
                    Int8Quantizer iq = new Int8Quantizer(
                            perRow ? Granularity.PER_CHANNEL : Granularity.PER_TENSOR, r, rnd.nextLong());
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
                            hmis += FloatCodec.decodeFp16(gh[i]) != dref ? 1 : 0; // by value: -0 as above
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
        try (DeviceBuffer dx = up("x", x);
                DeviceBuffer q = alloc.allocate("q8", n);
                DeviceBuffer am = alloc.allocate("amax", 4);
                DeviceBuffer sc = alloc.allocate("scale", 4);
                DeviceBuffer deq = alloc.allocate("deq", 4L * n)) {
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
                    byte rb = p == Precision.FP8_E4M3
                            ? FloatCodec.encodeE4M3(ref.codes()[i])
                            : FloatCodec.encodeE5M2(ref.codes()[i]);
                    mis += g[i] != rb ? 1 : 0;
                    dmis += Float.floatToRawIntBits(gd[i]) != Float.floatToRawIntBits(ref.codes()[i] * ref.scales()[0])
                            ? 1
                            : 0;
                }
                add(new CheckResult(p + " quantize (amax-scaled) codes+scale", "mismatches", mis, 0, 0, 0, n));
                add(new CheckResult(p + " dequantize", "mismatches", dmis, 0, CpuReference.nans(gd), 0, n));
            }
        }
    }
}
