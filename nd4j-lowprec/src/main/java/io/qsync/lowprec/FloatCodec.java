package io.qsync.lowprec;

/**
 * Bit-pattern encoding and decoding of the narrow float formats (FP16, BF16, FP8 E4M3, FP8 E5M2).
 * Encoding first rounds with {@link FloatRounding} (round-to-nearest-even, same overflow rules),
 * so {@code decode(encode(x)) == FloatRounding.round(p, x)} for every non-NaN {@code x}.
 *
 * <p>NaN encodes to the format's canonical quiet NaN with the sign of the input
 * (FP16 {@code 0x7E00}, BF16 {@code 0x7FC0}, E4M3 {@code 0x7F}, E5M2 {@code 0x7E}).
 */
public final class FloatCodec {
    private FloatCodec() {}

    /**
     * @param x value
     * @return IEEE binary16 bits of {@code x} rounded to nearest even, in the low 16 bits
     */
    public static short encodeFp16(float x) {
        return (short) encodeSmall(FloatRounding.roundFp16(x), 10, 15, 0x7E00);
    }

    /**
     * @param bits binary16 bits (low 16 bits used)
     * @return the value as a float (exact)
     */
    public static float decodeFp16(short bits) {
        return decodeSmall(bits & 0xFFFF, 10, 5, true);
    }

    /**
     * @param x value
     * @return bfloat16 bits of {@code x} rounded to nearest even
     */
    public static short encodeBf16(float x) {
        if (x != x) {
            return (short) ((Float.floatToRawIntBits(x) >>> 16 & 0x8000) | 0x7FC0);
        }
        return (short) (Float.floatToRawIntBits(FloatRounding.roundBf16(x)) >>> 16);
    }

    /**
     * @param bits bfloat16 bits
     * @return the value as a float (exact)
     */
    public static float decodeBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * @param x value
     * @return FP8 E4M3 bits of {@code x} (RNE, saturating to ±448)
     */
    public static byte encodeE4M3(float x) {
        return (byte) encodeSmall(FloatRounding.roundE4M3(x), 3, 7, 0x7F);
    }

    /**
     * @param bits FP8 E4M3 bits
     * @return the value as a float (exact); {@code S.1111.111} is NaN
     */
    public static float decodeE4M3(byte bits) {
        return decodeSmall(bits & 0xFF, 3, 4, false);
    }

    /**
     * @param x value
     * @return FP8 E5M2 bits of {@code x} (RNE, overflow to ±∞)
     */
    public static byte encodeE5M2(float x) {
        return (byte) encodeSmall(FloatRounding.roundE5M2(x), 2, 15, 0x7E);
    }

    /**
     * @param bits FP8 E5M2 bits
     * @return the value as a float (exact)
     */
    public static float decodeE5M2(byte bits) {
        return decodeSmall(bits & 0xFF, 2, 5, true);
    }

    /** Encodes an already rounded value {@code r}. */
    private static int encodeSmall(float r, int m, int bias, int qnan) {
        int signBit = 1 << (m + (bias == 7 ? 4 : 5));
        int sign = (Float.floatToRawIntBits(r) < 0) ? signBit : 0;
        if (r != r) {
            return sign | qnan;
        }
        int expAllOnes = (bias == 7) ? 15 : 31;
        float a = Math.abs(r);
        if (a == Float.POSITIVE_INFINITY) {
            return sign | (expAllOnes << m);
        }
        int e = Math.getExponent(a);
        if (a == 0f || e < 1 - bias) {
            // subnormal: a = mant * 2^(1 - bias - m)
            int mant = (int) Math.scalb(a, m + bias - 1);
            return sign | mant;
        }
        int mant = (Float.floatToRawIntBits(a) >>> (23 - m)) & ((1 << m) - 1);
        return sign | ((e + bias) << m) | mant;
    }

    private static float decodeSmall(int bits, int m, int eBits, boolean hasInf) {
        int bias = (1 << (eBits - 1)) - 1;
        int sign = (bits >>> (m + eBits)) & 1;
        int exp = (bits >>> m) & ((1 << eBits) - 1);
        int mant = bits & ((1 << m) - 1);
        int expAllOnes = (1 << eBits) - 1;
        float v;
        if (hasInf && exp == expAllOnes) {
            v = mant == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        } else if (!hasInf && exp == expAllOnes && mant == (1 << m) - 1) {
            v = Float.NaN;
        } else if (exp == 0) {
            v = Math.scalb((float) mant, 1 - bias - m);
        } else {
            v = Math.scalb((float) ((1 << m) | mant), exp - bias - m);
        }
        return sign == 1 ? -v : v;
    }
}
