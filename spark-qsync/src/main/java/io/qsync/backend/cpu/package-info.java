/**
 * The CPU backend ({@code spark.qsync.backend=cpu}): DL4J networks trained by DL4J on ND4J's CPU backend, behind the
 * runtime's {@link io.qsync.runtime.TrainingEngine} interface.
 */
package io.qsync.backend.cpu;
