package io.qsync.comm;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A point in time by which ring set-up must be done, and a cancellation check (in Spark: the task was killed) that
 * every wait looks at least every {@value #SLICE_MILLIS} ms, so that set-up never outlives a kill request.
 *
 * @param atNanos   {@link System#nanoTime()} value of the deadline
 * @param cancelled true once the caller no longer wants the result
 */
record Deadline(long atNanos, BooleanSupplier cancelled) {
    static final long SLICE_MILLIS = 200;

    /** A deadline {@code timeoutNanos} from now. */
    static Deadline in(long timeoutNanos, BooleanSupplier cancelled) {
        return new Deadline(System.nanoTime() + timeoutNanos, cancelled);
    }

    long remainingNanos() {
        return atNanos - System.nanoTime();
    }

    boolean passed() {
        return remainingNanos() <= 0;
    }

    /** This deadline or {@code capNanos} from now, whichever comes first (same cancellation). */
    Deadline capped(long capNanos) {
        return new Deadline(Math.min(atNanos, System.nanoTime() + capNanos), cancelled);
    }

    /**
     * Milliseconds to block in one wait: at most one slice, at least 1.
     *
     * @throws CommException if cancelled or the thread was interrupted
     */
    long sliceMillis(String what) {
        if (cancelled.getAsBoolean() || Thread.currentThread().isInterrupted()) {
            throw new CommException("stopped " + what + ": the task was killed or interrupted");
        }
        return Math.max(1, Math.min(SLICE_MILLIS, TimeUnit.NANOSECONDS.toMillis(remainingNanos())));
    }
}
