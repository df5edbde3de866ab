package io.qsync.comm;

import java.nio.ByteBuffer;

/**
 * Ring all-gather of variable-length byte arrays: at step {@code t} a rank forwards the entry of rank
 * {@code rank - t} (its own at step 0) and receives the entry of rank {@code rank - t - 1}. Each entry travels as an
 * ENTRY frame (its length) followed by DATA chunks; chunks are forwarded as soon as they arrive. Also used, with empty
 * entries, for the barrier.
 */
final class AllGatherSchedule implements RingSchedule {
    static final int OP = 2;
    static final int BARRIER_OP = 3;

    private final int op;
    private final int rank;
    private final int size;
    private final long seq;
    private final int chunkBytes;
    private final byte[][] entries;
    private final int[] have;
    private boolean beginSent;
    private boolean beginReceived;
    /** Send cursor: step, and -1 for the ENTRY frame or the byte offset of the next DATA chunk. */
    private int sendStep;

    private int sendPos = -1;
    private int recvStep;

    AllGatherSchedule(int op, byte[] mine, int rank, int size, long seq, int chunkBytes) {
        this.op = op;
        this.rank = rank;
        this.size = size;
        this.seq = seq;
        this.chunkBytes = chunkBytes;
        this.entries = new byte[size][];
        this.have = new int[size];
        entries[rank] = mine;
        have[rank] = mine.length;
    }

    /** The gathered entries, indexed by rank. */
    byte[][] result() {
        return entries;
    }

    @Override
    public boolean hasMoreSends() {
        return !beginSent || sendStep < size - 1;
    }

    @Override
    public boolean fillNext(ByteBuffer slot) {
        if (!beginSent) {
            RingSchedule.begin(slot, op, seq, size);
            beginSent = true;
            return true;
        }
        int origin = Math.floorMod(rank - sendStep, size);
        byte[] e = entries[origin];
        if (e == null) {
            return false;
        }
        if (sendPos < 0) {
            RingSchedule.header(slot, ENTRY, 4);
            slot.putInt(e.length).flip();
            sendPos = 0;
        } else {
            int len = Math.min(chunkBytes, e.length - sendPos);
            if (have[origin] < sendPos + len) {
                return false;
            }
            RingSchedule.header(slot, DATA, len);
            slot.put(e, sendPos, len).flip();
            sendPos += len;
        }
        if (sendPos >= e.length) {
            sendStep++;
            sendPos = -1;
        }
        return true;
    }

    @Override
    public boolean hasMoreRecvs() {
        return !beginReceived || recvStep < size - 1;
    }

    @Override
    public void onReceive(int tag, ByteBuffer payload) {
        int left = Math.floorMod(rank - 1, size);
        if (!beginReceived) {
            RingSchedule.checkBegin(tag, payload, op, seq, size, "ranks", rank, left);
            beginReceived = true;
            return;
        }
        int origin = Math.floorMod(rank - recvStep - 1, size);
        byte[] e = entries[origin];
        if (e == null) {
            if (tag != ENTRY || payload.remaining() != 4) {
                throw protocol(left, "the length of rank " + origin + "'s entry", tag);
            }
            int len = payload.getInt();
            if (len < 0) {
                throw protocol(left, "a non-negative entry length", tag);
            }
            entries[origin] = new byte[len];
        } else {
            int len = payload.remaining();
            if (tag != DATA || have[origin] + len > e.length) {
                throw protocol(left, "data of rank " + origin + "'s entry", tag);
            }
            payload.get(e, have[origin], len);
            have[origin] += len;
        }
        if (have[origin] == entries[origin].length) {
            recvStep++;
        }
    }

    private CommException protocol(int left, String expected, int tag) {
        return new CommException("protocol error: rank " + rank + " expected " + expected + " from left neighbour rank "
                + left + " in " + RingSchedule.opName(op) + " #" + seq + " but got frame tag " + tag);
    }

    @Override
    public String progress() {
        return "received " + recvStep + " of " + (size - 1) + " entries, forwarded " + sendStep;
    }
}
