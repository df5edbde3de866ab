package io.qsync.lowprec;

/**
 * Counter-based pseudo-random numbers: a SplitMix64-style hash of (seed, stream, index). The value
 * for an element depends only on these three numbers, never on thread timing or call order, so
 * stochastic rounding is reproducible and parallelisable.
 */
public final class CounterRng {
    private CounterRng() {
    }

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

    /** SplitMix64 finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
