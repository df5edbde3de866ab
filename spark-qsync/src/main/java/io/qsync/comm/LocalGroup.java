package io.qsync.comm;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntPredicate;

/**
 * The shared state of {@code size} in-JVM {@link LocalCommunicator}s (one per worker thread). Each collective is a
 * round: every rank deposits a copy of its contribution, then rank {@code r} reduces segment {@code r} (summing the
 * ranks' values in rank order, then scaling for AVERAGE) into one shared result that every rank copies, so results are
 * bitwise identical. Waits are bounded by the {@link CommConfig} timeouts; a timeout, mismatch, abort or close fails
 * the whole group promptly.
 */
public final class LocalGroup {
    private final int size;
    private final CommConfig config;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final boolean[] joined;
    private final boolean[] closed;
    private final Map<Long, Round> rounds = new HashMap<>();
    private int joinedCount;
    private String abortReason;

    /** Creates a group of {@code size} workers. */
    public LocalGroup(int size, CommConfig config) {
        if (size < 1) {
            throw new IllegalArgumentException("group size must be >= 1, got " + size);
        }
        this.size = size;
        this.config = config;
        this.joined = new boolean[size];
        this.closed = new boolean[size];
    }

    /** Number of workers. */
    public int size() {
        return size;
    }

    /**
     * Joins as {@code rank}; blocks until all ranks have joined, at most the connect timeout.
     *
     * @throws CommException on timeout (the group is then aborted) or if the rank already joined
     */
    public LocalCommunicator join(int rank) {
        if (rank < 0 || rank >= size) {
            throw new IllegalArgumentException("rank " + rank + " is outside 0.." + (size - 1));
        }
        lock.lock();
        try {
            if (joined[rank]) {
                throw new CommException("rank " + rank + " joined the local group twice");
            }
            joined[rank] = true;
            joinedCount++;
            changed.signalAll();
            await(r -> joined[r], config.connectTimeout().toNanos(), "join", CommConfig.CONNECT_TIMEOUT_KEY, rank);
            return new LocalCommunicator(this, rank);
        } finally {
            lock.unlock();
        }
    }

    /** One collective call of all ranks. */
    private static final class Round {
        final String name;
        final Object[] parts;
        final long[] counts;
        int arrived;
        int reduced;
        int departed;
        float[] result;

        Round(String name, int size) {
            this.name = name;
            this.parts = new Object[size];
            this.counts = new long[size];
        }
    }

    void allReduce(int rank, long seq, FloatBuffer buf, ReduceOp op) {
        String name = "allReduce #" + seq;
        float[] mine = new float[buf.remaining()];
        buf.get(buf.position(), mine);
        Round round = arrive(rank, seq, name, mine, mine.length, "elements");
        int n = mine.length;
        int from = (int) ((long) rank * n / size);
        int to = (int) ((long) (rank + 1) * n / size);
        float scale = op == ReduceOp.AVERAGE ? 1.0f / size : 1.0f;
        float[] out = round.result;
        for (int i = from; i < to; i++) {
            float acc = ((float[]) round.parts[0])[i];
            for (int q = 1; q < size; q++) {
                acc += ((float[]) round.parts[q])[i];
            }
            out[i] = scale == 1.0f ? acc : acc * scale;
        }
        lock.lock();
        try {
            round.reduced++;
            changed.signalAll();
            await(r -> round.reduced == size, config.ioTimeout().toNanos(), name, CommConfig.IO_TIMEOUT_KEY, rank);
        } finally {
            lock.unlock();
        }
        buf.put(buf.position(), out);
        depart(round, seq);
    }

    byte[][] allGather(int rank, long seq, byte[] mine, String op) {
        String name = op + " #" + seq;
        Round round = arrive(rank, seq, name, mine.clone(), size, "ranks");
        byte[][] out = new byte[size][];
        for (int q = 0; q < size; q++) {
            out[q] = q == rank ? mine : ((byte[]) round.parts[q]).clone();
        }
        depart(round, seq);
        return out;
    }

    /** Deposits a contribution and waits for all ranks; checks that all called the same collective with one length. */
    private Round arrive(int rank, long seq, String name, Object part, long count, String unit) {
        lock.lock();
        try {
            checkOpen(rank, name);
            Round round = rounds.computeIfAbsent(seq, s -> new Round(name, size));
            if (!round.name.equals(name)) {
                throw failGroup(
                        rank,
                        name,
                        "collective mismatch: rank " + rank + " called " + name + " but another rank" + " called "
                                + round.name + " (every rank must call the same collectives in the same order)");
            }
            round.parts[rank] = part;
            round.counts[rank] = count;
            round.arrived++;
            changed.signalAll();
            await(r -> round.parts[r] != null, config.ioTimeout().toNanos(), name, CommConfig.IO_TIMEOUT_KEY, rank);
            for (int q = 0; q < size; q++) {
                if (round.counts[q] != round.counts[0]) {
                    throw failGroup(
                            rank,
                            name,
                            name + " length mismatch: rank 0 has " + round.counts[0] + " " + unit + " but rank " + q
                                    + " has " + round.counts[q] + " (every rank must pass buffers of the same length)");
                }
            }
            if (round.result == null && part instanceof float[]) {
                round.result = new float[(int) count];
            }
            return round;
        } finally {
            lock.unlock();
        }
    }

    private void depart(Round round, long seq) {
        lock.lock();
        try {
            if (++round.departed == size) {
                rounds.remove(seq);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waits (holding {@link #lock}) until {@code ready} holds for every rank; fails the group on timeout. */
    private void await(IntPredicate ready, long timeoutNanos, String name, String key, int rank) {
        long left = timeoutNanos;
        while (true) {
            checkAbort(rank, name);
            List<Integer> missing = new ArrayList<>();
            for (int r = 0; r < size; r++) {
                if (!ready.test(r)) {
                    missing.add(r);
                    if (closed[r]) {
                        throw failGroup(rank, name, "rank " + r + " closed its communicator");
                    }
                }
            }
            if (missing.isEmpty()) {
                return;
            }
            if (left <= 0) {
                throw failGroup(
                        rank,
                        name,
                        "rank " + rank + " timed out after " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos)
                                + " ms waiting for ranks " + missing + " in " + name
                                + "; a peer is stalled or dead — increase " + key
                                + " if steps legitimately take longer");
            }
            try {
                left = changed.awaitNanos(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failGroup(rank, name, "rank " + rank + " was interrupted");
            }
        }
    }

    private void checkOpen(int rank, String name) {
        checkAbort(rank, name);
        if (closed[rank]) {
            throw new CommException(name + " failed at rank " + rank + ": communicator is closed");
        }
    }

    private void checkAbort(int rank, String name) {
        if (abortReason != null) {
            throw new CommException(name + " failed at rank " + rank + " of " + size + ": " + abortReason);
        }
    }

    private CommException failGroup(int rank, String name, String reason) {
        if (abortReason == null) {
            abortReason = reason;
        }
        changed.signalAll();
        return new CommException(name + " failed at rank " + rank + " of " + size + ": " + reason);
    }

    void abort(int rank, String reason) {
        lock.lock();
        try {
            if (abortReason == null) {
                abortReason = "rank " + rank + " aborted: " + reason;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void close(int rank) {
        lock.lock();
        try {
            closed[rank] = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
