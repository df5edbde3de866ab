package io.qsync.comm;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * A {@link Communicator} in two levels: the workers of a group (a host's GPU workers sharing NCCL) reduce among
 * themselves, the groups' leaders all-reduce over the TCP ring, and each leader hands the result back to its group.
 * Each element is reduced in one fixed order and the leaders' result is copied to every worker, so results stay
 * bitwise identical everywhere. A failure on either level aborts this worker's communicators; the failing worker's
 * handler aborts its own (see {@link Communicator#abort}), which reaches the other level's peers in turn.
 */
public final class HierarchicalCommunicator implements Communicator {
    private final int rank;
    private final int size;
    private final Communicator group;
    private final Communicator leaders;
    private final List<Integer> groupRanks;
    private final boolean leader;

    /**
     * @param rank       this worker's rank in the job
     * @param size       workers in the job
     * @param group      the collective among this worker's group, its local ranks in the order of {@code groupRanks};
     *                   null for a group of one
     * @param groupRanks the job ranks of the group, ascending; the first is the leader
     * @param leaders    the ring among the leaders (null on other workers, and when there is a single group)
     */
    public HierarchicalCommunicator(
            int rank, int size, Communicator group, List<Integer> groupRanks, Communicator leaders) {
        this.rank = rank;
        this.size = size;
        this.group = group;
        this.groupRanks = List.copyOf(groupRanks);
        this.leaders = leaders;
        this.leader = this.groupRanks.get(0) == rank;
        if (!this.groupRanks.contains(rank) || (group == null) != (this.groupRanks.size() == 1)) {
            throw new IllegalArgumentException("rank " + rank + " and group " + groupRanks + " do not match");
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public void allReduce(FloatBuffer buf, ReduceOp op) {
        allReduce(new FloatBuffer[] {buf}, op);
    }

    @Override
    public void allReduce(FloatBuffer[] parts, ReduceOp op) {
        if (group != null) {
            group.allReduce(parts, ReduceOp.SUM);
        }
        if (leader && leaders != null) {
            leaders.allReduce(parts, ReduceOp.SUM);
        }
        if (group != null) {
            group.broadcast(parts, 0);
        }
        if (op == ReduceOp.AVERAGE) {
            float scale = 1.0f / size;
            for (FloatBuffer p : parts) {
                for (int i = p.position(); i < p.limit(); i++) {
                    p.put(i, p.get(i) * scale);
                }
            }
        }
    }

    @Override
    public byte[][] allGather(byte[] mine) {
        byte[][] local = group != null ? group.allGather(mine) : new byte[][] {mine};
        byte[] table = new byte[0];
        if (leader) {
            byte[][] all = new byte[size][];
            byte[][] byLeader = leaders != null ? leaders.allGather(encode(groupRanks, local)) : null;
            if (byLeader == null) {
                decodeInto(encode(groupRanks, local), all);
            } else {
                for (byte[] b : byLeader) {
                    decodeInto(b, all);
                }
            }
            for (int r = 0; r < size; r++) {
                if (all[r] == null) {
                    throw new CommException("allGather: no entry from rank " + r);
                }
            }
            table = encode(range(size), all);
        }
        if (group != null) {
            table = group.allGather(table)[0];
        }
        byte[][] out = new byte[size][];
        decodeInto(table, out);
        return out;
    }

    private static List<Integer> range(int n) {
        return java.util.stream.IntStream.range(0, n).boxed().toList();
    }

    /** [count, then per entry: rank, length, bytes] */
    private static byte[] encode(List<Integer> ranks, byte[][] entries) {
        int n = 4;
        for (byte[] e : entries) {
            n += 8 + e.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n).putInt(entries.length);
        for (int i = 0; i < entries.length; i++) {
            b.putInt(ranks.get(i)).putInt(entries[i].length).put(entries[i]);
        }
        return b.array();
    }

    private static void decodeInto(byte[] bytes, byte[][] out) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        int n = b.getInt();
        for (int i = 0; i < n; i++) {
            int r = b.getInt();
            byte[] e = new byte[b.getInt()];
            b.get(e);
            out[r] = e;
        }
    }

    @Override
    public void barrier() {
        if (group != null) {
            group.barrier();
        }
        if (leader && leaders != null) {
            leaders.barrier();
        }
        if (group != null) {
            group.barrier();
        }
    }

    @Override
    public void abort(String reason) {
        if (group != null) {
            group.abort(reason);
        }
        if (leaders != null) {
            leaders.abort(reason);
        }
    }

    @Override
    public void close() {
        if (group != null) {
            group.close();
        }
        if (leaders != null) {
            leaders.close();
        }
    }
}
