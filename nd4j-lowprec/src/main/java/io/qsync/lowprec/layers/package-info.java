/**
 * Precision-switchable DL4J dense, convolution and output layers (same parameter layout as the built-in
 * layers), stable layer ids, immutable {@link io.qsync.lowprec.layers.PrecisionPlan}s and the
 * network converter {@link io.qsync.lowprec.layers.SwitchableLayers}.
 */
package io.qsync.lowprec.layers;
