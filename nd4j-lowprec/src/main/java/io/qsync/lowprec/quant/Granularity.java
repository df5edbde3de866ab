package io.qsync.lowprec.quant;

/** Granularity of a quantization scale. */
public enum Granularity {
    /** One scale for the whole tensor. */
    PER_TENSOR,
    /** One scale per output channel (amax over all other dimensions). */
    PER_CHANNEL
}
