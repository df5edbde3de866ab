/**
 * Low-precision GEMM and 2-D convolution, forward and backward, emulated on FP32 ND4J arrays with
 * QSync's per-precision semantics; each op reports the bytes it keeps for backward.
 */
package io.qsync.lowprec.ops;
