package io.qsync.lowprec.train;

/** A contiguous run of floats owned by one {@link TensorOps} implementation (host array or device memory). */
public interface Tensor {
    /** Number of floats. */
    long length();
}
