package io.qsync.bench.gpu;

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
 * State and helpers shared by the benchmark classes ({@link GpuBench}, {@link LinearForwardBench},
 * {@link QuantBandwidthBench}): the device objects, one timer, one log and one profile map.
 */
abstract class BenchBase {
    final DeviceAllocator alloc;
    final LtMatmul lt;
    final QuantKernels qk;
    final CudaStream s;
    final CudaTimer timer;
    final boolean fp8;
    final List<String> log;
    final Map<String, Object> profile;

    BenchBase(DeviceAllocator alloc, LtMatmul lt, QuantKernels qk, CudaStream s, boolean fp8) {
        this.alloc = alloc;
        this.lt = lt;
        this.qk = qk;
        this.s = s;
        this.timer = new CudaTimer(s, 64);
        this.fp8 = fp8;
        this.log = new ArrayList<>();
        this.profile = new LinkedHashMap<>();
    }

    /** Shares every field of {@code other} (same timer, log and profile). */
    BenchBase(BenchBase other) {
        this.alloc = other.alloc;
        this.lt = other.lt;
        this.qk = other.qk;
        this.s = other.s;
        this.timer = other.timer;
        this.fp8 = other.fp8;
        this.log = other.log;
        this.profile = other.profile;
    }

    final void say(String fmt, Object... args) {
        String line = String.format(java.util.Locale.ROOT, fmt, args);
        log.add(line);
        System.out.println(line);
    }

    static double r(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }

    final DeviceBuffer randomF32(String name, long n, float scale) {
        DeviceBuffer b = alloc.allocate(name, 4 * n);
        qk.fillUniform(b, n, System.nanoTime(), scale, s);
        return b;
    }

    /** Random operand of a GEMM type's element format. */
    final DeviceBuffer operand(String name, long n, int bytes, Precision p) {
        try (DeviceBuffer f = randomF32(name + " f32", n, 1f)) {
            DeviceBuffer b = alloc.allocate(name, n * bytes);
            if (bytes == 4) {
                b.copyFrom(f, 4 * n, s);
            } else if (p == Precision.INT8) {
                try (DeviceBuffer am = alloc.allocate("am", 4);
                        DeviceBuffer sc = alloc.allocate("sc", 4)) {
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

    static Precision aFormat(GemmType t) {
        return switch (t) {
            case FP16, FP16_OUT16 -> Precision.FP16;
            case BF16 -> Precision.BF16;
            case INT8, INT8_OUT_F32, INT8_OUT_F16, INT8_OUT_I8 -> Precision.INT8;
            case FP8_E4M3 -> Precision.FP8_E4M3;
            case FP8_E5M2_E4M3 -> Precision.FP8_E5M2;
            default -> Precision.FP32;
        };
    }

    static Precision bFormat(GemmType t) {
        return t == GemmType.FP8_E5M2_E4M3 ? Precision.FP8_E4M3 : aFormat(t);
    }

    static double tflops(long m, long n, long k, double ms) {
        return 2.0 * m * n * k / (ms * 1e9);
    }
}
