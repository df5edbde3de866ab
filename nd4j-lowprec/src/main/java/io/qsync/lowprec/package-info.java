/** Precisions, rounding, quantizers and low-precision ops on ND4J, and precision-switchable DL4J layers. */
package io.qsync.lowprec;
