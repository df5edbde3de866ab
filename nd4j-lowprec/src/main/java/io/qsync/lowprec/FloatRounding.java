package io.qsync.lowprec;

/**
 * Round-to-nearest-even of FP32 values to the nearest value representable in a narrower float
 * format, returned as a {@code float} (every such value is exactly representable in FP32).
 *
 * <p>Rules, for every format: NaN stays NaN; ±0, signs and ±∞ are kept; values below the format's
 * normal range round to its subnormals (or to ±0); ties go to the even mantissa. Overflow: formats
 * with infinities (TF32, BF16, FP16, E5M2) round to ±∞ exactly when IEEE RNE would (|x| ≥ max +
 * ulp(max)/2); FP8 E4M3 has no infinity and <b>saturates</b> every larger finite value and ±∞ to
 * ±448 (the "satfinite" conversion of NVIDIA / Transformer Engine).
 */
public final class FloatRounding {
    private static final float HALF_MAGIC = 0.5f; // 2^(emin - m + 23) for FP16: 2^(-14-10+23)
    private static final float E4M3_MAGIC = 0x1p14f; // 2^(-6-3+23)
    private static final float E5M2_MAGIC = 0x1p7f; // 2^(-14-2+23)
    private static final float HALF_MIN_NORMAL = 0x1p-14f;
    private static final float E4M3_MIN_NORMAL = 0x1p-6f;

    private FloatRounding() {}

    /**
     * Rounds {@code x} to {@code p}. {@link Precision#FP32} returns {@code x}; {@link Precision#INT8}
     * is not a float format and is rejected (use {@link io.qsync.lowprec.quant.Int8Quantizer}).
     *
     * @param p target float format
     * @param x value
     * @return nearest representable value of {@code p}
     */
    public static float round(Precision p, float x) {
        switch (p) {
            case FP32:
                return x;
            case TF32:
                return roundTf32(x);
            case BF16:
                return roundBf16(x);
            case FP16:
                return roundFp16(x);
            case FP8_E4M3:
                return roundE4M3(x);
            case FP8_E5M2:
                return roundE5M2(x);
            default:
                throw new IllegalArgumentException(
                        "Precision " + p + " is not a float format; quantize INT8 with Int8Quantizer");
        }
    }

    /** Rounds the low {@code drop} mantissa bits of an FP32 bit pattern, ties to even (carry into the exponent is correct). */
    private static int rneBits(int bits, int drop) {
        int lsb = (bits >>> drop) & 1;
        int rounded = bits + ((1 << (drop - 1)) - 1) + lsb;
        return rounded & ~((1 << drop) - 1);
    }

    /**
     * @param x value
     * @return {@code x} rounded to TF32 (10 mantissa bits, FP32 exponent range; overflow to ±∞)
     */
    public static float roundTf32(float x) {
        if (x != x) {
            return x;
        }
        return Float.intBitsToFloat(rneBits(Float.floatToRawIntBits(x), 13));
    }

    /**
     * @param x value
     * @return {@code x} rounded to bfloat16 (7 mantissa bits, FP32 exponent range; overflow to ±∞)
     */
    public static float roundBf16(float x) {
        if (x != x) {
            return x;
        }
        return Float.intBitsToFloat(rneBits(Float.floatToRawIntBits(x), 16));
    }

    /**
     * @param x value
     * @return {@code x} rounded to IEEE binary16 (overflow ≥ 65520 to ±∞, subnormals down to 2^-24)
     */
    public static float roundFp16(float x) {
        return roundSmall(x, 13, HALF_MIN_NORMAL, HALF_MAGIC, 65504f, true);
    }

    /**
     * @param x value
     * @return {@code x} rounded to FP8 E4M3; out-of-range values and ±∞ saturate to ±448
     */
    public static float roundE4M3(float x) {
        return roundSmall(x, 20, E4M3_MIN_NORMAL, E4M3_MAGIC, 448f, false);
    }

    /**
     * @param x value
     * @return {@code x} rounded to FP8 E5M2 (overflow ≥ 61440 to ±∞)
     */
    public static float roundE5M2(float x) {
        return roundSmall(x, 21, HALF_MIN_NORMAL, E5M2_MAGIC, 57344f, true);
    }

    private static float roundSmall(float x, int drop, float minNormal, float magic, float max, boolean hasInf) {
        float ax = Math.abs(x);
        if (ax >= minNormal) { // false for NaN
            if (ax == Float.POSITIVE_INFINITY) {
                return hasInf ? x : Math.copySign(max, x);
            }
            float r = Float.intBitsToFloat(rneBits(Float.floatToRawIntBits(ax), drop));
            if (r > max) {
                r = hasInf ? Float.POSITIVE_INFINITY : max;
            }
            return Math.copySign(r, x);
        }
        if (x != x) {
            return x;
        }
        // subnormal range: ulp(magic) equals the target's subnormal spacing, so the FPU does RNE for us
        float r = (ax + magic) - magic;
        return Math.copySign(r, x);
    }

    /**
     * Rounds {@code len} elements of {@code a} starting at {@code off} in place.
     *
     * @param p   target float format ({@link Precision#FP32} is a no-op)
     * @param a   data
     * @param off first index
     * @param len number of elements
     */
    public static void roundInPlace(Precision p, float[] a, int off, int len) {
        int end = off + len;
        switch (p) {
            case FP32:
                return;
            case TF32:
                for (int i = off; i < end; i++) {
                    a[i] = roundTf32(a[i]);
                }
                return;
            case BF16:
                for (int i = off; i < end; i++) {
                    a[i] = roundBf16(a[i]);
                }
                return;
            case FP16:
                for (int i = off; i < end; i++) {
                    a[i] = roundFp16(a[i]);
                }
                return;
            case FP8_E4M3:
                for (int i = off; i < end; i++) {
                    a[i] = roundE4M3(a[i]);
                }
                return;
            case FP8_E5M2:
                for (int i = off; i < end; i++) {
                    a[i] = roundE5M2(a[i]);
                }
                return;
            default:
                throw new IllegalArgumentException(
                        "Precision " + p + " is not a float format; quantize INT8 with Int8Quantizer");
        }
    }
}
