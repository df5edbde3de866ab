package io.qsync.bench.gpu;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.DelayedInt8Scaler;
import io.qsync.lowprec.cuda.DeviceBuffer;
import io.qsync.lowprec.quant.IntRounding;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Bandwidth of the quantize / dequantize / cast kernels on 2^28 elements (GB/s = logical bytes / time, as a ratio
 * to the device-to-device copy), and the per-tensor INT8 amax + quantize on an L2-resident tensor.
 */
final class QuantBandwidthBench extends BenchBase {
    QuantBandwidthBench(BenchBase shared) {
        super(shared);
    }

    void run(double copyGBs) {
        long n = 1L << 28;
        Map<String, Object> out = new LinkedHashMap<>();
        try (DeviceBuffer x = randomF32("x", n, 3f);
                DeviceBuffer q = alloc.allocate("q", n);
                DeviceBuffer h = alloc.allocate("h", 2 * n);
                DeviceBuffer y = alloc.allocate("y", 4 * n);
                DeviceBuffer o = alloc.allocate("o", 4 * n);
                DeviceBuffer am = alloc.allocate("am", 4);
                DeviceBuffer sc = alloc.allocate("sc", 4 * 16384);
                DelayedInt8Scaler delayed = new DelayedInt8Scaler(alloc, qk, 1)) {
            qk.amax(x, n, am, s);
            qk.quantizeInt8(x, n, am, q, sc, IntRounding.TRUNCATE, 0, 0, s);
            Object[][] ops = {
                {"amax (read 4n)", 4.0, (Runnable) () -> qk.amax(x, n, am, s)},
                {
                    "INT8 quantize, scale on device (4n+n)",
                    5.0,
                    (Runnable) () -> qk.quantizeInt8(x, n, am, q, sc, IntRounding.TRUNCATE, 0, 0, s)
                },
                {
                    "INT8 quantize stochastic (4n+n)",
                    5.0,
                    (Runnable) () -> qk.quantizeInt8(x, n, am, q, sc, IntRounding.STOCHASTIC, 1, 2, s)
                },
                {
                    "INT8 amax+quantize, 2 passes (logical 4n+n)",
                    5.0,
                    (Runnable) () -> qk.amaxQuantizeInt8(x, n, am, q, sc, IntRounding.TRUNCATE, 0, 0, s)
                },
                {
                    "INT8 delayed-scaling quantize, fused amax, 1 pass (4n+n)",
                    5.0,
                    (Runnable) () -> delayed.quantize(x, n, q, sc, IntRounding.TRUNCATE, 0, 0, s)
                },
                {
                    "INT8 per-channel fused amax+quantize 16384 rows (4n+n)",
                    5.0,
                    (Runnable) () -> qk.quantizeInt8Rows(x, 16384, n / 16384, q, sc, IntRounding.TRUNCATE, 0, 0, s)
                },
                {"INT8 dequantize to FP32 (n+4n)", 5.0, (Runnable) () -> qk.dequantizeInt8(q, n, 1, 1, sc, false, y, s)
                },
                {"INT8 dequantize to FP16 (n+2n)", 3.0, (Runnable) () -> qk.dequantizeInt8(q, n, 1, 1, sc, true, h, s)},
                {
                    "INT32 dequantize+scale (4n+4n)",
                    8.0,
                    (Runnable) () -> qk.dequantizeInt32(y, n / 4096, 4096, sc, sc, false, null, o, s)
                },
                {"cast FP32->FP16 (4n+2n)", 6.0, (Runnable) () -> qk.cast(x, n, Precision.FP16, h, s)},
                {"cast FP32->BF16 (4n+2n)", 6.0, (Runnable) () -> qk.cast(x, n, Precision.BF16, h, s)},
                {"cast FP16->FP32 (2n+4n)", 6.0, (Runnable) () -> qk.widen16(h, n, Precision.FP16, y, s)},
                {"cast FP32->TF32 (4n+4n)", 8.0, (Runnable) () -> qk.cast(x, n, Precision.TF32, y, s)},
                {
                    "FP8 E4M3 quantize, scale on device (4n+n)",
                    5.0,
                    (Runnable) () -> qk.quantizeFp8(x, n, Precision.FP8_E4M3, am, sc, q, s)
                },
                {
                    "FP8 E4M3 dequantize (n+4n)",
                    5.0,
                    (Runnable) () -> qk.dequantizeFp8(q, n, Precision.FP8_E4M3, sc, y, s)
                },
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
                    say(
                            "  %-58s %.3f ms  %7.1f GB/s  ratio to copy %.3f",
                            "  same, bytes moved (4n + 4n+n)", ms, moved, moved / copyGBs);
                    e.put("movedGBps", r(moved));
                    e.put("movedRatioToCopy", r(moved / copyGBs));
                }
                out.put((String) op[0], e);
            }
        }
        // a tensor that fits in L2 (60 MiB on H100/H200): the second pass of amax+quantize re-reads from L2
        long nl2 = 1L << 23;
        try (DeviceBuffer x = randomF32("x small", nl2, 3f);
                DeviceBuffer x2 = alloc.allocate("x2", 4 * nl2);
                DeviceBuffer q = alloc.allocate("q small", nl2);
                DeviceBuffer am = alloc.allocate("am", 4);
                DeviceBuffer sc = alloc.allocate("sc", 4)) {
            double copyMs = timer.median("copy 32MiB", 3, 30, () -> x2.copyFrom(x, 4 * nl2, s));
            double copySmall = 8.0 * nl2 / (copyMs * 1e6);
            double ms = timer.median(
                    "amax+quant 32MiB",
                    3,
                    30,
                    () -> qk.amaxQuantizeInt8(x, nl2, am, q, sc, IntRounding.TRUNCATE, 0, 0, s));
            double gbs = 5.0 * nl2 / (ms * 1e6);
            say(
                    "  %-58s %.3f ms  %7.1f GB/s  ratio to a 32 MiB copy (%.1f GB/s) %.3f",
                    "INT8 amax+quantize 2^23 elements (L2-resident)", ms, gbs, copySmall, gbs / copySmall);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("ms", r(ms));
            e.put("GBps", r(gbs));
            e.put("copyGBpsSameSize", r(copySmall));
            e.put("ratioToCopy", r(gbs / copySmall));
            out.put("INT8 amax+quantize 2^23 elements (L2-resident)", e);
            try (DelayedInt8Scaler delayed = new DelayedInt8Scaler(alloc, qk, 1)) {
                double dms = timer.median(
                        "delayed quant 32MiB",
                        3,
                        30,
                        () -> delayed.quantize(x, nl2, q, sc, IntRounding.TRUNCATE, 0, 0, s));
                double dg = 5.0 * nl2 / (dms * 1e6);
                say(
                        "  %-58s %.3f ms  %7.1f GB/s  ratio to a 32 MiB copy %.3f",
                        "INT8 delayed quantize 2^23 elements (L2-resident)", dms, dg, dg / copySmall);
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("ms", r(dms));
                d.put("GBps", r(dg));
                d.put("ratioToCopy", r(dg / copySmall));
                out.put("INT8 delayed quantize 2^23 elements (L2-resident)", d);
            }
        }
        profile.put("quantKernels", out);
    }
}
