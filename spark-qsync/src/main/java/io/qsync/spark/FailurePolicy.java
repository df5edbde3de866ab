package io.qsync.spark;

import io.qsync.comm.CommException;
import java.io.IOException;
import java.util.List;
import org.apache.spark.TaskKilledException;

/**
 * Decides how a barrier task ends after a failure. A failure that a retry would only repeat (bad input or settings,
 * a diverged loss, replicas that differ: {@link IllegalArgumentException}, {@link IllegalStateException} and similar
 * programming-level errors) ends the task normally with a failed {@link TrainedResult}, and so do the peers that this
 * rank told about it over the ring: the stage then completes and the driver fails the job with the message, in one
 * attempt. Anything else (a dead or stalled peer, a killed task, I/O, out of memory) is rethrown at once so that
 * Spark's stage retry starts without waiting.
 */
final class FailurePolicy {
    private FailurePolicy() {}

    /** True if {@code e} would happen again on a retry with the same input and settings. */
    static boolean deterministic(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof CommException
                    || t instanceof TaskKilledException
                    || t instanceof InterruptedException
                    || t instanceof IOException
                    || t instanceof java.io.UncheckedIOException) {
                return false;
            }
        }
        return e instanceof IllegalArgumentException
                || e instanceof IllegalStateException
                || e instanceof ArithmeticException
                || e instanceof UnsupportedOperationException
                || e instanceof ClassCastException
                || e instanceof NullPointerException
                || e instanceof IndexOutOfBoundsException;
    }

    /**
     * The result a task returns after {@code e}: a failed result for a deterministic failure of its own or one that a
     * live peer reported over the ring (that peer decides whether the stage is retried); otherwise rethrows {@code e}.
     */
    static TrainedResult resultOrRethrow(int rank, Throwable e) {
        if (deterministic(e)) {
            return TrainedResult.failed(rank, "rank " + rank + ": " + e, false);
        }
        if (e instanceof CommException c && c.reportedByPeer()) {
            return TrainedResult.failed(rank, c.getMessage(), true);
        }
        if (e instanceof Error err) {
            throw err;
        }
        throw (RuntimeException) e;
    }

    /**
     * Fails the job if any worker stopped on a deterministic failure, preferring the worker where it happened.
     *
     * @throws IllegalStateException with that worker's message
     */
    static void throwIfFailed(List<TrainedResult> results) {
        TrainedResult first = null;
        for (TrainedResult r : results) {
            if (r.failure() != null && (first == null || first.relayed() && !r.relayed())) {
                first = r;
            }
        }
        if (first != null) {
            throw new IllegalStateException(
                    "training failed and was not retried (the same input and settings would fail " + "the same way): "
                            + first.failure());
        }
    }
}
