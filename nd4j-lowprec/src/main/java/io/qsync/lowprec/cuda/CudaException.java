package io.qsync.lowprec.cuda;

/** A failed CUDA, cuBLASLt, NVRTC or NVML call; the message names the call and the status. */
public final class CudaException extends RuntimeException {
    /** {@code cudaErrorMemoryAllocation}: {@code cudaMalloc}/{@code cudaMallocHost} failed, or an allocator's limit. */
    public static final int OUT_OF_MEMORY = 2;

    private final int status;

    /**
     * @param message call and status, e.g. {@code cublasLtMatmul(INT8 4096x4096x4096) failed: CUBLAS_STATUS_NOT_SUPPORTED}
     * @param status  the numeric status code
     */
    public CudaException(String message, int status) {
        super(message);
        this.status = status;
    }

    /** @return the numeric status returned by the failed call */
    public int status() {
        return status;
    }

    /** @return whether the device (or an allocator's limit on it) ran out of memory */
    public boolean outOfMemory() {
        return status == OUT_OF_MEMORY;
    }
}
