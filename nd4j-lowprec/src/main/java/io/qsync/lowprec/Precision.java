package io.qsync.lowprec;

/**
 * The numeric formats a layer can run in. Float formats are described by their explicit mantissa
 * (fraction) bits and exponent bits; {@link #INT8} is a symmetric 8-bit integer format
 * ({@code [-127, 127]} times a scale).
 *
 * <p>All low-precision formats are <em>emulated</em> on FP32 data: values are rounded to the nearest
 * representable value of the format and kept in {@code float}s (see {@link FloatRounding}).
 */
public enum Precision {
    /** IEEE binary32. */
    FP32(4, 23, 8, Float.MAX_VALUE, true),
    /** NVIDIA TensorFloat-32: FP32 exponent range, 10 mantissa bits; stored in 4 bytes. */
    TF32(4, 10, 8, 0x1.ffcp127f, true),
    /** bfloat16: FP32 exponent range, 7 mantissa bits. */
    BF16(2, 7, 8, 0x1.fep127f, true),
    /** IEEE binary16. */
    FP16(2, 10, 5, 65504f, true),
    /** OCP FP8 E4M3 (bias 7, no infinities, max 448, overflow saturates to ±448). */
    FP8_E4M3(1, 3, 4, 448f, true),
    /** OCP FP8 E5M2 (bias 15, IEEE-like with infinities, max 57344). */
    FP8_E5M2(1, 2, 5, 57344f, true),
    /** Symmetric 8-bit integer, values in [-127, 127], scale = amax / 127. */
    INT8(1, 0, 0, 127f, false);

    private final int storageBytes;
    private final int mantissaBits;
    private final int exponentBits;
    private final float maxFinite;
    private final boolean floatingPoint;

    Precision(int storageBytes, int mantissaBits, int exponentBits, float maxFinite, boolean floatingPoint) {
        this.storageBytes = storageBytes;
        this.mantissaBits = mantissaBits;
        this.exponentBits = exponentBits;
        this.maxFinite = maxFinite;
        this.floatingPoint = floatingPoint;
    }

    /** @return bytes one element occupies in this format (TF32 is stored in 4 bytes). */
    public int storageBytes() {
        return storageBytes;
    }

    /** @return number of explicit mantissa (fraction) bits; 0 for {@link #INT8}. */
    public int mantissaBits() {
        return mantissaBits;
    }

    /** @return number of exponent bits; 0 for {@link #INT8}. */
    public int exponentBits() {
        return exponentBits;
    }

    /** @return exponent bias {@code 2^(exponentBits-1) - 1}; 0 for {@link #INT8}. */
    public int exponentBias() {
        return floatingPoint ? (1 << (exponentBits - 1)) - 1 : 0;
    }

    /** @return the unbiased exponent of the smallest normal number, {@code 1 - bias} (float formats only; 1 for INT8). */
    public int minNormalExponent() {
        return 1 - exponentBias();
    }

    /** @return the largest finite value (the largest integer code, 127, for {@link #INT8}). */
    public float maxFinite() {
        return maxFinite;
    }

    /** @return true for floating-point formats, false for {@link #INT8}. */
    public boolean isFloat() {
        return floatingPoint;
    }

    /** @return true for integer formats ({@link #INT8}). */
    public boolean isInteger() {
        return !floatingPoint;
    }

    /** @return true if the format has infinities (all except FP8 E4M3 and INT8). */
    public boolean hasInfinity() {
        return floatingPoint && this != FP8_E4M3;
    }

    /**
     * Bytes needed to keep {@code elements} values in this format.
     *
     * @param elements number of elements
     * @return {@code elements * storageBytes()}
     */
    public long bytesFor(long elements) {
        return elements * storageBytes;
    }
}
