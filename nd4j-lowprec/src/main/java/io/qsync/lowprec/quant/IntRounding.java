package io.qsync.lowprec.quant;

/** How a scaled value {@code v = x / scale} becomes an integer code. */
public enum IntRounding {
    /** Truncation toward zero, {@code (int) v}: QSync's CUDA path ({@code static_cast<int8_t>}). */
    TRUNCATE,
    /** Round to nearest, ties to even ({@code Math.rint}). */
    NEAREST,
    /**
     * Unbiased stochastic rounding {@code floor(v + u)} (float addition), {@code u} uniform on the 65536
     * midpoints {@code (2k + 1)·2^-17} of [0, 1), drawn from a counter-based hash of (seed, stream, element
     * index) ({@link io.qsync.lowprec.CounterRng#roundingUniform}: one hash per four consecutive elements), so
     * {@code E[q] = v} to within {@code 2^-17} of a code step (where {@code v + u} is exact in float).
     */
    STOCHASTIC
}
