package io.qsync.comm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;

/**
 * The connections of one ring member to its neighbours ({@link CommConfig#connections()} pipes) and the threads that
 * drive them: an all-reduce of at least {@value #MIN_STRIPE_BYTES} bytes per connection is cut into one contiguous
 * stripe per connection, each reduced by its own ring schedule on its own thread (the caller's thread drives stripe
 * 0); smaller ones use connection 0 alone. Which stripes exist depends only on the length, so every rank cuts alike.
 * A failure on one connection aborts the others, so the collective fails as a whole.
 */
final class LaneSet {
    /** Smallest stripe worth its own connection. */
    static final int MIN_STRIPE_BYTES = 1 << 20;

    private final RingPipe[] pipes;
    private final ExecutorService threads;
    private ByteBuffer staging;

    LaneSet(int rank, RingPipe[] pipes) {
        this.pipes = pipes;
        ThreadFactory f = r -> {
            Thread t = new Thread(r, "qsync-ring-" + rank + "-connection");
            t.setDaemon(true);
            return t;
        };
        this.threads = pipes.length > 1 ? Executors.newFixedThreadPool(pipes.length - 1, f) : null;
    }

    /** Runs one all-reduce (sequence number {@code seq}) of {@code parts} laid end to end. */
    void allReduce(FloatBuffer[] parts, ReduceOp op, int size, long seq, int chunkBytes) {
        ByteBuffer[] views = new ByteBuffer[parts.length];
        boolean direct = true;
        long total = 0;
        for (int i = 0; i < parts.length; i++) {
            views[i] = DirectViews.bytes(parts[i]);
            direct &= views[i] != null;
            total += parts[i].remaining();
        }
        if (total > Integer.MAX_VALUE / Float.BYTES) {
            throw new IllegalArgumentException("allReduce of " + total + " floats: at most "
                    + Integer.MAX_VALUE / Float.BYTES + " per call (split the buffer)");
        }
        FloatSpan span = direct ? new FloatSpan(views) : new FloatSpan(stage(parts, (int) total));
        String what = "allReduce #" + seq;
        int n = span.count();
        int k = (int) Math.max(1, Math.min(pipes.length, (long) n * Float.BYTES / MIN_STRIPE_BYTES));
        Future<?>[] others = new Future<?>[k - 1];
        try {
            for (int c = 1; c < k; c++) {
                FloatSpan stripe = span.sub(stripeStart(n, k, c), stripeStart(n, k, c + 1));
                RingPipe p = pipes[c];
                int rank = p.rank();
                others[c - 1] = threads.submit(
                        () -> p.run(new AllReduceSchedule(stripe, op, rank, size, seq, chunkBytes), what));
            }
            pipes[0].run(
                    new AllReduceSchedule(
                            span.sub(0, stripeStart(n, k, 1)), op, pipes[0].rank(), size, seq, chunkBytes),
                    what);
            for (Future<?> f : others) {
                await(f);
            }
        } catch (RuntimeException | Error e) {
            abort(e.getMessage() == null ? e.toString() : e.getMessage());
            throw e;
        }
        if (!direct) {
            unstage(parts);
        }
    }

    private static void await(Future<?> f) {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommException("interrupted while waiting for a ring connection's stripe", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw (Error) e.getCause();
        }
    }

    private static int stripeStart(int n, int k, int c) {
        return (int) ((long) n * c / k);
    }

    private ByteBuffer stage(FloatBuffer[] parts, int total) {
        if (staging == null || staging.capacity() < total * Float.BYTES) {
            staging = ByteBuffer.allocateDirect(total * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        }
        FloatBuffer f = staging.clear().limit(total * Float.BYTES).asFloatBuffer();
        int at = 0;
        for (FloatBuffer p : parts) {
            f.put(at, p, p.position(), p.remaining());
            at += p.remaining();
        }
        return staging.slice(0, total * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void unstage(FloatBuffer[] parts) {
        FloatBuffer f = staging.asFloatBuffer();
        int at = 0;
        for (FloatBuffer p : parts) {
            p.put(p.position(), f, at, p.remaining());
            at += p.remaining();
        }
    }

    /** Aborts every connection (any thread). */
    void abort(String reason) {
        for (RingPipe p : pipes) {
            p.abort(reason);
        }
    }

    /** Closes every connection and stops the threads. */
    void close() {
        for (RingPipe p : pipes) {
            p.close();
        }
        if (threads != null) {
            threads.shutdownNow();
        }
    }
}
