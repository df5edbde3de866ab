package io.qsync.comm;

import java.nio.FloatBuffer;

/**
 * Collective operations among the {@link #size()} workers of one synchronous training job.
 *
 * <p>Every worker calls the same collectives in the same order with buffers of the same length. Each call is bounded
 * by the implementation's I/O timeout: a peer that fails, closes or stops answering makes every other worker's pending
 * and later calls throw {@link CommException} (never hang). After a {@link CommException} the communicator is
 * aborted and only {@link #close()} may be called.
 *
 * <p>All-reduce results are bitwise identical on every worker (each element is reduced in one fixed order and then
 * distributed), so replicas that apply the same update stay identical.
 */
public interface Communicator extends AutoCloseable {

    /** This worker's rank, {@code 0 <= rank < size}. */
    int rank();

    /** Number of workers. */
    int size();

    /**
     * In-place all-reduce of {@code buf} from its position to its limit (position and limit are left unchanged).
     * Heap and direct buffers are both accepted; a direct buffer may be a view of off-heap ND4J memory.
     *
     * @param buf the local contribution; on return, the reduced result
     * @param op  {@link ReduceOp#SUM} or {@link ReduceOp#AVERAGE}
     * @throws CommException on timeout, peer failure or a length mismatch detected between peers
     */
    void allReduce(FloatBuffer buf, ReduceOp op);

    /**
     * One in-place all-reduce of the floats of {@code parts} (each from its position to its limit) laid end to end, as
     * if they were one buffer: e.g. a gradient bucket and the loss scalar in one collective. This default copies them
     * into one buffer and back; the TCP ring reduces the parts in place.
     */
    default void allReduce(FloatBuffer[] parts, ReduceOp op) {
        int n = 0;
        for (FloatBuffer p : parts) {
            n += p.remaining();
        }
        FloatBuffer all = FloatBuffer.allocate(n);
        for (FloatBuffer p : parts) {
            all.put(p.duplicate());
        }
        allReduce(all.flip(), op);
        for (FloatBuffer p : parts) {
            p.duplicate().put(all.slice(all.position(), p.remaining()));
            all.position(all.position() + p.remaining());
        }
    }

    /** Convenience: in-place all-reduce of a whole float array. */
    default void allReduce(float[] buf, ReduceOp op) {
        allReduce(FloatBuffer.wrap(buf), op);
    }

    /**
     * Copies {@code root}'s floats of {@code parts} (each from its position to its limit) to every worker. This default
     * sums the root's values with zeros from everyone else (exact: {@code x + 0 = x}); implementations with a native
     * broadcast override it.
     */
    default void broadcast(FloatBuffer[] parts, int root) {
        if (rank() != root) {
            for (FloatBuffer p : parts) {
                for (int i = p.position(); i < p.limit(); i++) {
                    p.put(i, 0f);
                }
            }
        }
        allReduce(parts, ReduceOp.SUM);
    }

    /**
     * Gathers one byte array from every worker.
     *
     * @return {@code size()} arrays indexed by rank (this worker's own entry is {@code mine})
     */
    byte[][] allGather(byte[] mine);

    /** Returns once every worker has entered the barrier, or throws {@link CommException} on timeout/failure. */
    void barrier();

    /**
     * Aborts this communicator: peers blocked in or later entering a collective fail promptly with a
     * {@link CommException} that carries {@code reason}. Idempotent; safe to call from any thread.
     */
    void abort(String reason);

    /** Releases sockets and threads. Idempotent. Does not throw. */
    @Override
    void close();
}
