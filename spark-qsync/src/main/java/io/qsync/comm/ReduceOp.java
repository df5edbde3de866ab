package io.qsync.comm;

/** Element-wise reduction of an all-reduce. */
public enum ReduceOp {
    /** Element-wise sum over all workers. */
    SUM,
    /** Element-wise sum divided by the number of workers. */
    AVERAGE
}
