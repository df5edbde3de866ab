package io.qsync.lowprec.cuda;

import io.qsync.lowprec.quant.IntRounding;

/**
 * Device state of the opt-in delayed INT8 activation scaling ({@link io.qsync.lowprec.quant.Int8DelayedScaling} is
 * the CPU reference, bit for bit): an amax ring of {@code H + 2} words, a saturation counter, and the call count kept
 * here on the host (no host synchronisation per call). Call 0: amax pass + fused kernel with the own amax as extra
 * input (= QSync's dynamic quantization); later calls: one fused kernel (codes with the scale from the previous H
 * amaxes, this call's amax atomically recorded, the next write slot cleared), one read of X.
 */
public final class DelayedInt8Scaler implements AutoCloseable {
    private final QuantKernels qk;
    private final int history;
    private final DeviceBuffer ring;
    private final DeviceBuffer boot;
    private final DeviceBuffer sat;
    private long calls;
    private boolean cleared;

    /**
     * @param historyLength amax history length H ≥ 1
     */
    public DelayedInt8Scaler(DeviceAllocator alloc, QuantKernels qk, int historyLength) {
        if (historyLength < 1) {
            throw new IllegalArgumentException("history length must be >= 1");
        }
        this.qk = qk;
        this.history = historyLength;
        ring = alloc.allocate("amax history", 4L * (historyLength + 2));
        boot = alloc.allocate("first amax", 4);
        sat = alloc.allocate("saturated", 8);
    }

    private int slots() {
        return history + 2;
    }

    /** @return H */
    public int historyLength() {
        return history;
    }

    /** @return calls so far */
    public long calls() {
        return calls;
    }

    /** Forgets the history and zeroes the saturation counter (enqueued on {@code s}). */
    public void reset(CudaStream s) {
        ring.fillAsync(0, s);
        sat.fillAsync(0, s);
        calls = 0;
        cleared = true;
    }

    /**
     * Quantizes {@code x} (n floats) per tensor into {@code codes}; the scale used is written to {@code scaleOut}.
     */
    public void quantize(
            DeviceBuffer x,
            long n,
            DeviceBuffer codes,
            DeviceBuffer scaleOut,
            IntRounding rounding,
            long seed,
            long stream,
            CudaStream s) {
        if (calls == 0) {
            if (!cleared) {
                reset(s);
            }
            qk.amax(x, n, boot, s);
        }
        int w = (int) (calls % slots());
        qk.quantizeInt8Delayed(
                x, n, ring, slots(), w, calls == 0 ? boot : null, codes, scaleOut, sat, rounding, seed, stream, s);
        calls++;
        cleared = false;
    }

    /** @return saturated elements over all calls since the last reset (synchronises the device) */
    public long saturatedTotal() {
        int[] w = sat.downloadInts(2);
        return (w[0] & 0xFFFFFFFFL) | ((long) w[1] << 32);
    }

    /** @return the amax recorded by the last call (synchronises the device) */
    public float lastAmax() {
        if (calls == 0) {
            throw new IllegalStateException("no call yet");
        }
        int w = (int) ((calls - 1) % slots());
        return Float.intBitsToFloat(ring.downloadInts(w + 1)[w]);
    }

    @Override
    public void close() {
        ring.close();
        boot.close();
        sat.close();
    }
}
