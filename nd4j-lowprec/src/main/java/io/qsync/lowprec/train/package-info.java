/**
 * Training primitives over flat float buffers: one interface ({@link io.qsync.lowprec.train.TensorOps}) with a
 * plain-Java host reference ({@link io.qsync.lowprec.train.HostOps}) and a CUDA implementation
 * ({@link io.qsync.lowprec.cuda.CudaTensorOps}). A network program written once against the interface runs on
 * either, so DL4J's semantics can be checked on the CPU and the GPU only has to get the primitives right.
 */
package io.qsync.lowprec.train;
