/**
 * CUDA back end of the low-precision ops (JavaCPP CUDA 13 presets): device context and memory
 * ({@link io.qsync.lowprec.cuda.CudaDevice}, {@link io.qsync.lowprec.cuda.DeviceAllocator}), cuBLASLt GEMMs in
 * INT8/FP8/FP16/BF16/TF32/FP32 ({@link io.qsync.lowprec.cuda.LtMatmul}) and NVRTC-compiled quantization kernels
 * ({@link io.qsync.lowprec.cuda.QuantKernels}) with the same rounding semantics as the CPU emulation in
 * {@link io.qsync.lowprec}.
 *
 * <p>Class path: {@code org.bytedeco:javacpp:1.5.13} (plain and {@code linux-x86_64}) and the {@code cuda} presets,
 * the same JavaCPP that ND4J runs on in this project, so ND4J and these kernels share one JVM. Nothing here loads
 * ND4J classes.
 * {@link io.qsync.lowprec.cuda.CudaPresence} detects a device without loading JavaCPP, so tests on machines without
 * a GPU skip before any JavaCPP class is touched.
 */
package io.qsync.lowprec.cuda;
