/**
 * The Spark side: the barrier-mode training stage, its driver-side launcher with pre-flight checks, live progress,
 * the {@code spark.qsync.*} configuration surface, and Kryo registration for ND4J arrays.
 */
package io.qsync.spark;
