package io.qsync.spark;

/**
 * A worker ran out of JVM heap. Thrown by a barrier task in place of the {@link OutOfMemoryError} (whose memory is
 * free again once the task's data is dropped), so that the job fails with a message naming the setting to raise
 * instead of losing the executor.
 */
public final class WorkerOutOfMemoryError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    WorkerOutOfMemoryError(int rank, String phase, OutOfMemoryError cause) {
        super(
                "worker " + rank + " ran out of JVM heap (" + cause.getMessage() + ", heap " + JobFailures.heap()
                        + ") while " + phase + ": " + JobFailures.RAISE_MEMORY,
                cause);
    }
}
