package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cublas.*;
import static org.bytedeco.cuda.global.cudart.*;

/**
 * Operand, output and compute types of one cuBLASLt GEMM. A and B are named in the row-major sense of
 * {@link LtMatmul#matmul}: {@code D[M,N] = op(A)·op(B)}.
 */
public enum GemmType {
    /** FP32 operands, FP32 (SIMT) arithmetic. */
    FP32(CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F, CUDA_R_32F, 4, 4, 4, false),
    /** FP32 operands, TF32 tensor cores (inputs already rounded to TF32 by the cast kernel), FP32 accumulate. */
    TF32(CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, CUDA_R_32F, 4, 4, 4, false),
    /** FP16 operands, FP32 accumulate, FP32 output. */
    FP16(CUDA_R_16F, CUDA_R_16F, CUDA_R_32F, CUBLAS_COMPUTE_32F, CUDA_R_32F, 2, 2, 4, false),
    /** FP16 operands, FP32 accumulate, FP16 output (QSync's FP16 layer output and dX). */
    FP16_OUT16(CUDA_R_16F, CUDA_R_16F, CUDA_R_16F, CUBLAS_COMPUTE_32F, CUDA_R_32F, 2, 2, 2, false),
    /** BF16 operands, FP32 accumulate, FP32 output. */
    BF16(CUDA_R_16BF, CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F, CUDA_R_32F, 2, 2, 4, false),
    /** INT8 × INT8 → INT32 (exact); dequantized afterwards. Needs {@code A·Bᵀ} (both K-major). */
    INT8(CUDA_R_8I, CUDA_R_8I, CUDA_R_32I, CUBLAS_COMPUTE_32I, CUDA_R_32I, 1, 1, 4, true),
    /** FP8 E4M3 × E4M3, per-tensor scales, FP32 accumulate and output (cc ≥ 8.9). Needs {@code A·Bᵀ}. */
    FP8_E4M3(CUDA_R_8F_E4M3, CUDA_R_8F_E4M3, CUDA_R_32F, CUBLAS_COMPUTE_32F, CUDA_R_32F, 1, 1, 4, true),
    /** FP8 E5M2 (A, gradients) × E4M3 (B, saved operands): the FP8 backward GEMMs. Needs {@code A·Bᵀ}. */
    FP8_E5M2_E4M3(CUDA_R_8F_E5M2, CUDA_R_8F_E4M3, CUDA_R_32F, CUBLAS_COMPUTE_32F, CUDA_R_32F, 1, 1, 4, true),
    /**
     * Probe only: INT8 × INT8, INT32 compute, FP32 scale and FP32 D (would fuse the dequantization into the GEMM).
     * Not in cuBLASLt's documented type table; {@code GpuBench} asks the heuristic on the device and reports.
     */
    INT8_OUT_F32(CUDA_R_8I, CUDA_R_8I, CUDA_R_32F, CUBLAS_COMPUTE_32I, CUDA_R_32F, 1, 1, 4, true),
    /** Probe only: as {@link #INT8_OUT_F32} with FP16 D. */
    INT8_OUT_F16(CUDA_R_8I, CUDA_R_8I, CUDA_R_16F, CUBLAS_COMPUTE_32I, CUDA_R_32F, 1, 1, 2, true),
    /** Probe control: INT8 × INT8, INT32 compute, FP32 scale, INT8 D (documented; requantizing output). */
    INT8_OUT_I8(CUDA_R_8I, CUDA_R_8I, CUDA_R_8I, CUBLAS_COMPUTE_32I, CUDA_R_32F, 1, 1, 1, true);

    final int aType;
    final int bType;
    final int dType;
    final int computeType;
    final int scaleType;
    /** Bytes per element of A. */
    public final int aBytes;
    /** Bytes per element of B. */
    public final int bBytes;
    /** Bytes per element of D. */
    public final int dBytes;
    /** True when cuBLASLt supports only {@code A·Bᵀ} with K-major A and B (the column-major "TN" layout). */
    public final boolean needsKMajor;

    GemmType(
            int aType,
            int bType,
            int dType,
            int computeType,
            int scaleType,
            int aBytes,
            int bBytes,
            int dBytes,
            boolean needsKMajor) {
        this.aType = aType;
        this.bType = bType;
        this.dType = dType;
        this.computeType = computeType;
        this.scaleType = scaleType;
        this.aBytes = aBytes;
        this.bBytes = bBytes;
        this.dBytes = dBytes;
        this.needsKMajor = needsKMajor;
    }

    /** @return true for the FP8 types (per-tensor scale pointers) */
    public boolean isFp8() {
        return this == FP8_E4M3 || this == FP8_E5M2_E4M3;
    }
}
