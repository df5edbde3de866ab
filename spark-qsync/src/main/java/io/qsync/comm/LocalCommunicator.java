package io.qsync.comm;

import java.nio.FloatBuffer;
import java.util.Objects;

/**
 * In-JVM {@link Communicator} for unit tests and single-process runs: the workers are threads sharing a
 * {@link LocalGroup}, with the same timeout, abort and bitwise-identical-result semantics as the TCP ring. Create a
 * group with {@code new LocalGroup(size, config)} and call {@link LocalGroup#join(int)} once from each worker thread.
 */
public final class LocalCommunicator implements Communicator {
    private final LocalGroup group;
    private final int rank;
    private long seq;

    LocalCommunicator(LocalGroup group, int rank) {
        this.group = group;
        this.rank = rank;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return group.size();
    }

    @Override
    public void allReduce(FloatBuffer buf, ReduceOp op) {
        Objects.requireNonNull(buf, "buf");
        Objects.requireNonNull(op, "op");
        group.allReduce(rank, ++seq, buf, op);
    }

    @Override
    public byte[][] allGather(byte[] mine) {
        Objects.requireNonNull(mine, "mine");
        return group.allGather(rank, ++seq, mine, "allGather");
    }

    @Override
    public void barrier() {
        group.allGather(rank, ++seq, new byte[0], "barrier");
    }

    @Override
    public void abort(String reason) {
        group.abort(rank, reason);
    }

    @Override
    public void close() {
        group.close(rank);
    }

    @Override
    public String toString() {
        return "LocalCommunicator[rank " + rank + " of " + size() + "]";
    }
}
