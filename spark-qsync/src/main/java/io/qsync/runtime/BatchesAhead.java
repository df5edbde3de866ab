package io.qsync.runtime;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A worker's batches gathered one step ahead: while step {@code s} trains, one background thread gathers step
 * {@code s + 1}'s rows into a second set of reused arrays ({@link ReusedBatches}), so the step's thread waits only for
 * what that gather has not finished. A GPU idles while its host gathers: on the H100 host 256 shuffled Fashion-MNIST
 * rows took 0.23-0.81 ms (benchmarks/RESULTS.md §12g-§12h), a third of the demo CNN's 1.4 ms step. The batches are
 * the rows, in the order, that gathering in turn gives; a batch handed out stays untouched while its step runs, until
 * the next {@link #ahead} (the engines copy a batch before their step returns). {@code -Dqsync.batchAhead=false} gathers on the step's thread
 * (for A/B runs). Not thread-safe: one per training loop; {@link #close} stops the thread.
 */
public final class BatchesAhead implements AutoCloseable {
    /** Most a step waits for its batch's gather before it fails, in seconds. */
    static final long WAIT_SECONDS = 300;

    private final ReusedBatches[] sets;
    private final ExecutorService thread;
    /** The set that does not hold the batch in use: the next gather's. */
    private int free;

    private Future<HostBatch> pending;
    private int[] pendingOrder;
    private int pendingFrom;
    private int pendingTo;
    private int pendingClasses;

    /**
     * @param shard the rows batches are gathered from
     * @param name  the background thread's name suffix (e.g. {@code rank 0})
     */
    BatchesAhead(LocalShard shard, String name) {
        this(shard, name, enabled());
    }

    BatchesAhead(LocalShard shard, String name, boolean ahead) {
        this.sets = new ReusedBatches[] {new ReusedBatches(shard), new ReusedBatches(shard)};
        this.thread = ahead ? thread(name) : null;
    }

    /** One daemon thread for gathering ahead, named {@code qsync batch ahead, <name>}. */
    public static ExecutorService thread(String name) {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "qsync batch ahead, " + name);
            t.setDaemon(true);
            return t;
        });
    }

    /** Whether batches are gathered a step ahead ({@code -Dqsync.batchAhead}, default true). */
    public static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty("qsync.batchAhead", "true"));
    }

    /**
     * Rows {@code order[from..to)} as a batch with one-hot labels over {@code numClasses}: the batch gathered ahead
     * when it is that one, else gathered now.
     */
    HostBatch take(int[] order, int from, int to, int numClasses) {
        HostBatch batch = null;
        if (pending != null) {
            boolean same =
                    order == pendingOrder && from == pendingFrom && to == pendingTo && numClasses == pendingClasses;
            HostBatch gathered = await(pending);
            pending = null;
            batch = same ? gathered : null;
        }
        if (batch == null) {
            batch = sets[free].next(order, from, to, numClasses);
        }
        if (thread != null) {
            free = 1 - free;
        }
        return batch;
    }

    /**
     * Starts gathering rows {@code order[from..to)} on the background thread, into the set the last {@link #take} did
     * not return (nothing when gathering ahead is off). {@code order} must not change until that batch is taken.
     */
    void ahead(int[] order, int from, int to, int numClasses) {
        if (thread == null) {
            return;
        }
        if (pending != null) {
            throw new IllegalStateException("a batch is already being gathered ahead: take it first");
        }
        ReusedBatches set = sets[free];
        pendingOrder = order;
        pendingFrom = from;
        pendingTo = to;
        pendingClasses = numClasses;
        pending = thread.submit(() -> set.next(order, from, to, numClasses));
    }

    /**
     * The batch a gather ahead returned, waiting at most {@link #WAIT_SECONDS}; its failure is rethrown as it was
     * thrown (an unchecked one unwrapped).
     */
    public static HostBatch await(Future<HostBatch> f) {
        try {
            return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("gathering a batch ahead failed: " + c, c);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new IllegalStateException("gathering a batch ahead took more than " + WAIT_SECONDS
                    + " s; run with -Dqsync.batchAhead=false to gather on the step's thread");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a batch gathered ahead", e);
        }
    }

    /** Drops a batch still being gathered and stops the background thread. */
    @Override
    public void close() {
        stop(pending, thread);
        pending = null;
    }

    /** Cancels {@code pending} (may be null) and stops {@code thread} (may be null), waiting up to 10 s for it. */
    public static void stop(Future<?> pending, ExecutorService thread) {
        if (pending != null) {
            pending.cancel(true);
        }
        if (thread != null) {
            thread.shutdownNow();
            try {
                thread.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
