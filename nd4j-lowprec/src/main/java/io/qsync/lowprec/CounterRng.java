package io.qsync.lowprec;

/**
 * Counter-based pseudo-random numbers: a SplitMix64-style hash of (seed, stream, index). The value
 * for an element depends only on these three numbers, never on thread timing or call order, so
 * stochastic rounding is reproducible and parallelisable. Stochastic rounding draws from
 * {@link #roundingUniform} (four 16-bit fields per hash); {@link #uniform} is the general 24-bit draw.
 */
public final class CounterRng {
    private CounterRng() {}

    /**
     * @param seed   user seed
     * @param stream stream id (e.g. layer and iteration)
     * @param index  element index
     * @return 64 well-mixed bits
     */
    public static long bits(long seed, long stream, long index) {
        long z = mix(seed ^ 0x9E3779B97F4A7C15L * (stream + 1));
        z = mix(z + 0x9E3779B97F4A7C15L * (index + 1));
        return z;
    }

    /**
     * @param seed   user seed
     * @param stream stream id
     * @param index  element index
     * @return uniform value in [0, 1) with 24 random bits (exact as a float)
     */
    public static float uniform(long seed, long stream, long index) {
        return (bits(seed, stream, index) >>> 40) * 0x1p-24f;
    }

    /**
     * The uniform that stochastic rounding adds ({@code floor(v + u)}, {@link
     * io.qsync.lowprec.quant.Int8Quantizer#rawCode}); the GPU kernels ({@code quant_kernels.cu}, {@code rng_round4} /
     * {@code rng_round1}) draw exactly the same values. One hash serves four consecutive elements: element
     * {@code index} takes the 16-bit field {@code index mod 4} (lowest field first) of
     * {@code bits(seed, stream, index / 4)}, {@code k}, and returns {@code u = (k + 1/2)·2^-16}, one of the 65536
     * midpoints {@code (2k + 1)·2^-17} of [0, 1) (exact as a float). Where {@code v + u} is exact in float, the
     * midpoints make {@code P(round up)} the fraction of {@code v} rounded to a multiple of {@code 2^-16}: bias at most
     * {@code 2^-17} of a code step and zero on average over the fraction (plain {@code k·2^-16} would bias every
     * value down by {@code 2^-17} on average).
     *
     * <p>Until this method existed stochastic rounding used {@link #uniform} (24 bits, one hash per element); the
     * stream was changed so that the GPU spends a quarter of the integer work per element (on an H200 the per-element
     * hash, not memory, limited the kernel), so codes drawn with the same seed differ from those of earlier versions.
     *
     * @param seed   user seed
     * @param stream stream id (e.g. layer and iteration)
     * @param index  element index, {@code >= 0}
     * @return {@code (2k + 1)·2^-17} for the element's 16-bit field {@code k}, in (0, 1)
     */
    public static float roundingUniform(long seed, long stream, long index) {
        long h = bits(seed, stream, index >>> 2);
        int k = (int) (h >>> ((index & 3) << 4)) & 0xFFFF;
        return (2 * k + 1) * 0x1p-17f;
    }

    /** SplitMix64 finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
