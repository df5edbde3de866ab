/**
 * The planner: QSync's Predictor (per-layer sensitivity indicators and per-device cost and memory models), Replayer
 * (one synchronous iteration of a hybrid cluster under a precision plan) and Allocator (per-device precision plans,
 * leave-out and batch rebalancing), plus the plan report. Plain data in, plain data out: nothing in this package or its
 * subpackages imports Spark, DL4J/ND4J, the runtime or the collectives (a test keeps it so), so plans are computed
 * and tested on the driver or offline. What measures a live network (layer graphs of DL4J networks, statistics,
 * device profiles) lives in {@link io.qsync.profile}. Subpackages: {@link io.qsync.planner.graph} (layer graph and
 * depths), {@link io.qsync.planner.stats} (per-layer statistics), {@link io.qsync.planner.indicator} (GVAR, WVAR,
 * HESS), {@link io.qsync.planner.cost} (device profiles and costs), {@link io.qsync.planner.memory},
 * {@link io.qsync.planner.replay}, {@link io.qsync.planner.alloc} and {@link io.qsync.planner.report}.
 */
package io.qsync.planner;
