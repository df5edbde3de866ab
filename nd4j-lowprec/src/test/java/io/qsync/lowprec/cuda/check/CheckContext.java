package io.qsync.lowprec.cuda.check;

import io.qsync.lowprec.cuda.CudaStream;
import io.qsync.lowprec.cuda.DeviceAllocator;
import io.qsync.lowprec.cuda.DeviceBuffer;
import io.qsync.lowprec.cuda.LtMatmul;
import io.qsync.lowprec.cuda.QuantKernels;
import java.util.List;
import java.util.Random;

/**
 * State and helpers shared by the GPU checks ({@link GpuChecks}, {@link GpuLayerChecks}): one random source (so a
 * seed replays every input), one result list, the device objects.
 */
abstract class CheckContext {
    static final double FP32_TOL = 1e-6;
    static final double LOW_TOL = 1e-3;
    final DeviceAllocator alloc;
    final LtMatmul lt;
    final QuantKernels qk;
    final CudaStream s;
    final Random rnd;
    final boolean fp8;
    final List<CheckResult> results;

    CheckContext(
            DeviceAllocator alloc,
            LtMatmul lt,
            QuantKernels qk,
            CudaStream s,
            Random rnd,
            boolean fp8,
            List<CheckResult> results) {
        this.alloc = alloc;
        this.lt = lt;
        this.qk = qk;
        this.s = s;
        this.rnd = rnd;
        this.fp8 = fp8;
        this.results = results;
    }

    /** Shares every field of {@code other} (same random source, same result list). */
    CheckContext(CheckContext other) {
        this(other.alloc, other.lt, other.qk, other.s, other.rnd, other.fp8, other.results);
    }

    final float[] randn(int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * scale * (rnd.nextInt(50) == 0 ? 8 : 1));
        }
        return x;
    }

    /** Values across FP16's and FP8's normal and subnormal ranges, ties included. */
    final float[] wideRange(int n) {
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

    final DeviceBuffer up(String name, float[] x) {
        DeviceBuffer b = alloc.allocate(name, 4L * x.length);
        b.upload(x);
        return b;
    }

    final void add(CheckResult r) {
        results.add(r);
        System.out.println(r.row());
    }

    static int nanOrPoison16(short[] v) {
        int c = 0;
        for (short x : v) {
            if ((x & 0xFFFF) == 0xFFFF) {
                c++;
            }
        }
        return c;
    }
}
