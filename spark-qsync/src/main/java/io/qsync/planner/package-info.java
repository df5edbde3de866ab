/**
 * The planner (QSync's Predictor and, in later issues, Replayer and Allocator). Pure JVM code on top of
 * DL4J/ND4J: nothing in this package or its subpackages imports Spark, so plans can be computed and tested
 * on the driver or offline. Subpackages: {@link io.qsync.planner.graph} (layer graph and depths),
 * {@link io.qsync.planner.stats} (per-layer statistics), {@link io.qsync.planner.indicator}
 * (GVAR, WVAR, HESS sensitivity indicators) and {@link io.qsync.planner.memory} (per-worker memory model).
 */
package io.qsync.planner;
