package io.qsync.runtime;

import io.qsync.comm.Communicator;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * The replica check of {@link WorkerLoop} ({@code spark.qsync.checksumEvery}): every rank gathers every rank's CRC32 of
 * its parameters and fails if any differ, naming the first differing parameter. Before the first step it checks the
 * starting parameters, and at a checked step it first compares the all-reduced gradients ({@link SyncStep}'s copy), so
 * a divergence says which side broke: the start, the gradient exchange, or the update. Every rank takes each path
 * together (they all see the same gathered checksums), so the extra collectives stay matched.
 */
final class ReplicaCheck {
    /** Vectors up to this many floats are gathered to name the first difference when replicas diverge. */
    static final long DIAGNOSE_FLOATS = 4L << 20;

    private final Communicator comm;

    ReplicaCheck(Communicator comm) {
        this.comm = comm;
    }

    /** Fails if any two replicas' parameters differ; {@code when} says at what point ("after step 3"). */
    long parameters(TrainingEngine net, String when) {
        long mine = net.checksum();
        int other = firstOther(mine);
        if (other >= 0) {
            FloatBuffer p = null;
            if (net.numParams() <= DIAGNOSE_FLOATS) {
                p = FloatBuffer.allocate((int) net.numParams());
                net.readParams(p);
                p.flip();
            }
            throw new IllegalStateException(String.format(
                    "replicas diverged %s: parameter checksum of rank %d is %08x but rank %d has %08x%s",
                    when, comm.rank(), mine, other, theirs(other), firstDifference("parameter", p, other)));
        }
        return mine;
    }

    /**
     * Fails if the all-reduced gradients of a step differ between ranks: then the exchange, not the update, broke.
     *
     * @param checksum this rank's CRC32 of the all-reduced gradient (and loss) before the update ({@link SyncStep})
     * @param reduced  a copy of them, or null if the step kept none (too large: the first difference is then not
     *                 named)
     */
    void reducedGradients(long checksum, FloatBuffer reduced, String when) {
        long mine = checksum;
        int other = firstOther(mine);
        if (other >= 0) {
            FloatBuffer g = reduced != null && reduced.remaining() <= DIAGNOSE_FLOATS ? reduced : null;
            throw new IllegalStateException(String.format(
                    "replicas diverged %s: the all-reduced gradients differ (rank %d has checksum %08x, rank %d"
                            + " %08x), so the gradient exchange or the buffers it writes broke, not the updater%s",
                    when, comm.rank(), mine, other, theirs(other), firstDifference("gradient element", g, other)));
        }
    }

    private long[] gathered;

    /** Gathers every rank's checksum; the first rank whose value differs from {@code mine}, or -1. */
    private int firstOther(long mine) {
        byte[][] all = comm.allGather(ByteBuffer.allocate(8).putLong(mine).array());
        gathered = new long[all.length];
        int first = -1;
        for (int r = 0; r < all.length; r++) {
            gathered[r] = ByteBuffer.wrap(all[r]).getLong();
            if (gathered[r] != mine && first < 0) {
                first = r;
            }
        }
        return first;
    }

    private long theirs(int rank) {
        return gathered[rank];
    }

    /**
     * Rank {@code other}'s vector against this rank's {@code mine} (null: too large, the ranks then all skip the
     * gather, since they all see sizes alike): the first differing element and the largest difference.
     */
    private String firstDifference(String what, FloatBuffer mine, int other) {
        byte[] bytes = new byte[mine == null ? 0 : 4 * mine.remaining()];
        if (mine != null) {
            ByteBuffer.wrap(bytes).asFloatBuffer().put(mine.duplicate());
        }
        byte[] theirsBytes = comm.allGather(bytes)[other];
        if (mine == null || theirsBytes.length != bytes.length) {
            return mine == null
                    ? ""
                    : "; rank " + other + " sent " + theirsBytes.length / 4 + " floats, this rank has "
                            + bytes.length / 4;
        }
        float[] a = new float[bytes.length / 4];
        float[] b = new float[a.length];
        ByteBuffer.wrap(bytes).asFloatBuffer().get(a);
        ByteBuffer.wrap(theirsBytes).asFloatBuffer().get(b);
        int first = -1;
        int count = 0;
        double maxDiff = 0;
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToIntBits(a[i]) != Float.floatToIntBits(b[i])) {
                first = first < 0 ? i : first;
                count++;
                maxDiff = Math.max(maxDiff, Math.abs((double) a[i] - b[i]));
            }
        }
        return first < 0
                ? "; the " + what + "s read back are equal to rank " + other + "'s (the checksums differ)"
                : String.format(
                        "; %d of %d differ, the first at %s %d: rank %d has %s, rank %d has %s (largest difference %.3g)",
                        count, a.length, what, first, other, b[first], comm.rank(), a[first], maxDiff);
    }
}
