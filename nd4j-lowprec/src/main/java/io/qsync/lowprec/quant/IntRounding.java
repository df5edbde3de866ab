package io.qsync.lowprec.quant;

/** How a scaled value {@code v = x / scale} becomes an integer code. */
public enum IntRounding {
    /** Truncation toward zero, {@code (int) v}: QSync's CUDA path ({@code static_cast<int8_t>}). */
    TRUNCATE,
    /** Round to nearest, ties to even ({@code Math.rint}). */
    NEAREST,
    /**
     * Unbiased stochastic rounding {@code floor(v + u)}, {@code u ~ U[0,1)} drawn from a counter-based
     * hash of (seed, stream, element index), so {@code E[q] = v}.
     */
    STOCHASTIC
}
