package io.qsync.lowprec.quant;

/**
 * Opt-in <b>delayed scaling</b> of a per-tensor INT8 activation (Transformer Engine's recipe). This is a deviation
 * from QSync, whose {@link Int8Quantizer} derives the scale {@code amax/127} from the tensor being quantized on every
 * forward (two passes over it: amax, then codes). Here the scale of call {@code c ≥ 1} is
 * {@code scaleFor(max of the amaxes recorded by calls c-1 … c-H)} (history length {@code H}, default 1), and this
 * call's amax is recorded in the same pass as the codes (one read of the tensor on the GPU). Values beyond the stale
 * range saturate to ±127 ({@link Result#saturated()} counts them: elements whose raw code
 * {@link Int8Quantizer#rawCode} lies outside [-127, 127]). The first call (empty history) uses the tensor's own amax,
 * i.e. it is exactly QSync's quantization. A later call whose amax is below the history's maximum saturates nothing but
 * uses less of the code range than QSync's own-amax scale would.
 *
 * <p>Plain {@code float[]} (no ND4J): the same class is the reference of the GPU op
 * ({@code io.qsync.lowprec.cuda.DelayedInt8Scaler}), which must match it bit for bit (codes, scale, recorded amax,
 * saturation count). Rounding and the stochastic stream/index are those of the given {@link Int8Quantizer}, with the
 * flat element index as the RNG counter (as {@link Int8Quantizer#quantizePerTensor}). Not thread-safe: one instance
 * per layer input.
 */
public final class Int8DelayedScaling {
    /** Default amax history length. */
    public static final int DEFAULT_HISTORY = 1;

    private final Int8Quantizer quantizer;
    private final float[] history;
    private long calls;
    private long lastSaturated;

    /**
     * One call's result.
     *
     * @param codes     INT8 codes as floats
     * @param scale     the scale used (from the history; the tensor's own on the first call)
     * @param amax      this call's max |x| (recorded for the following calls)
     * @param saturated elements clamped to ±127 because they exceeded the stale range
     */
    public record Result(float[] codes, float scale, float amax, long saturated) {}

    /**
     * @param quantizer     rounding mode and seed (its granularity is ignored: per tensor)
     * @param historyLength amax history length H ≥ 1
     */
    public Int8DelayedScaling(Int8Quantizer quantizer, int historyLength) {
        if (quantizer == null || historyLength < 1) {
            throw new IllegalArgumentException("need a quantizer and a history length >= 1");
        }
        this.quantizer = quantizer;
        this.history = new float[historyLength];
    }

    /** @return H */
    public int historyLength() {
        return history.length;
    }

    /** @return the quantizer whose rounding is used */
    public Int8Quantizer quantizer() {
        return quantizer;
    }

    /** @return calls so far */
    public long calls() {
        return calls;
    }

    /** @return elements saturated by the last call */
    public long lastSaturated() {
        return lastSaturated;
    }

    /** Forgets the history (the next call behaves as the first). */
    public void reset() {
        java.util.Arrays.fill(history, 0f);
        calls = 0;
        lastSaturated = 0;
    }

    private float historyMax() {
        float m = 0f;
        for (float v : history) {
            m = Math.max(m, v);
        }
        return m;
    }

    /**
     * Quantizes {@code x} per tensor with the delayed scale and records its amax.
     *
     * @param x      FP32 values (flat; element index = RNG counter)
     * @param stream stochastic-rounding stream id
     * @return codes, scale, amax and saturation count
     */
    public Result quantize(float[] x, long stream) {
        float amax = 0f;
        for (float v : x) {
            amax = Math.max(amax, Math.abs(v));
        }
        float s = Int8Quantizer.scaleFor(calls == 0 ? amax : historyMax());
        float[] codes = new float[x.length];
        long sat = 0;
        for (int i = 0; i < x.length; i++) {
            float q = quantizer.rawCode(x[i] / s, stream, i);
            if (q > Int8Quantizer.QMAX || q < -Int8Quantizer.QMAX) {
                sat++;
            }
            codes[i] = Math.max(-Int8Quantizer.QMAX, Math.min(Int8Quantizer.QMAX, q));
        }
        history[(int) (calls % history.length)] = amax;
        calls++;
        lastSaturated = sat;
        return new Result(codes, s, amax, sat);
    }
}
