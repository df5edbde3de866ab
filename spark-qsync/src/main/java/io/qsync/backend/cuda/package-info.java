/**
 * {@code spark.qsync.backend=cuda}: DL4J networks compiled ({@link io.qsync.backend.cuda.ProgramCompiler}) to a
 * program of primitive operations ({@link io.qsync.lowprec.train.TensorOps}) run by
 * {@link io.qsync.backend.cuda.ProgramEngine} with DL4J's semantics and flat layouts; on the device through
 * {@link io.qsync.lowprec.cuda.CudaTensorOps}, or on the host reference for tests.
 */
package io.qsync.backend.cuda;
