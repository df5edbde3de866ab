/** Symmetric INT8 and amax-scaled FP8 quantizers (QSync {@code quant.py} semantics; Transformer Engine hybrid FP8). */
package io.qsync.lowprec.quant;
