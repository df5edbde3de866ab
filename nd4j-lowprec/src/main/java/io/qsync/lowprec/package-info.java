/**
 * Precisions ({@link io.qsync.lowprec.Precision}), round-to-nearest-even emulation of narrow float
 * formats on FP32 data ({@link io.qsync.lowprec.FloatRounding}, {@link io.qsync.lowprec.ArrayRounding}),
 * their bit encodings ({@link io.qsync.lowprec.FloatCodec}) and a counter-based RNG for stochastic
 * rounding ({@link io.qsync.lowprec.CounterRng}). Sub-packages: {@code quant} (quantizers),
 * {@code ops} (GEMM/conv), {@code layers} (DL4J layers and precision plans).
 */
package io.qsync.lowprec;
