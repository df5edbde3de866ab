package io.qsync.comm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Ring all-reduce of one rank: reduce-scatter then all-gather over {@code size} segments, each split into chunks.
 *
 * <p>At reduce-scatter step {@code t} the rank sends segment {@code rank - t} and receives segment
 * {@code rank - t - 1}, adding its own values; at all-gather step {@code t} it sends segment {@code rank + 1 - t} and
 * receives segment {@code rank - t}, copying. What is received at one step is exactly what is sent at the next, so
 * the outgoing frame {@code j} (after the first segment's {@code c0} chunks) is ready once incoming frame
 * {@code j - c0} has been consumed: chunks are forwarded as soon as they are reduced. Segment {@code s} is summed
 * in the fixed order of ranks {@code s, s+1, ...} by rank {@code s - 1} (which also applies the AVERAGE scale) and
 * then copied verbatim, so every rank ends with bitwise identical values.
 */
final class AllReduceSchedule implements RingSchedule {
    static final int OP = 1;

    private final FloatBuffer buf;
    private final int base;
    private final int count;
    private final int size;
    private final int rank;
    private final long seq;
    private final float scale;
    private final int chunkFloats;
    private final float[] mine;
    private final float[] theirs;
    /** Incoming frames (after BEGIN): element offset, length, step. */
    private final int[] recvOff;

    private final int[] recvLen;
    private final int[] recvStep;
    private final int firstSendChunks;
    private final int totalSends;
    private boolean beginSent;
    private boolean beginReceived;
    private int sent;
    private int received;

    AllReduceSchedule(
            FloatBuffer buf,
            ReduceOp op,
            int rank,
            int size,
            long seq,
            int chunkBytes,
            float[] scratchA,
            float[] scratchB) {
        this.buf = buf;
        this.base = buf.position();
        this.count = buf.remaining();
        this.rank = rank;
        this.size = size;
        this.seq = seq;
        this.scale = op == ReduceOp.AVERAGE ? 1.0f / size : 1.0f;
        this.chunkFloats = chunkBytes / Float.BYTES;
        this.mine = scratchA;
        this.theirs = scratchB;
        int frames = 0;
        for (int t = 0; t < 2 * (size - 1); t++) {
            frames += chunks(segLen(recvSeg(t)));
        }
        recvOff = new int[frames];
        recvLen = new int[frames];
        recvStep = new int[frames];
        int f = 0;
        for (int t = 0; t < 2 * (size - 1); t++) {
            int seg = recvSeg(t);
            int start = segStart(seg);
            int len = segLen(seg);
            for (int o = 0; o < len; o += chunkFloats) {
                recvOff[f] = start + o;
                recvLen[f] = Math.min(chunkFloats, len - o);
                recvStep[f++] = t;
            }
        }
        firstSendChunks = chunks(segLen(rank));
        int lastStepChunks = chunks(segLen(recvSeg(2 * size - 3)));
        totalSends = firstSendChunks + frames - lastStepChunks;
    }

    private int recvSeg(int t) {
        int s = t < size - 1 ? rank - t - 1 : rank - (t - (size - 1));
        return Math.floorMod(s, size);
    }

    private int segStart(int seg) {
        return (int) ((long) seg * count / size);
    }

    private int segLen(int seg) {
        return segStart(seg + 1) - segStart(seg);
    }

    private int chunks(int len) {
        return (len + chunkFloats - 1) / chunkFloats;
    }

    @Override
    public boolean hasMoreSends() {
        return !beginSent || sent < totalSends;
    }

    @Override
    public boolean fillNext(ByteBuffer slot) {
        if (!beginSent) {
            RingSchedule.begin(slot, OP, seq, count);
            beginSent = true;
            return true;
        }
        int off;
        int len;
        if (sent < firstSendChunks) {
            int o = sent * chunkFloats;
            off = segStart(rank) + o;
            len = Math.min(chunkFloats, segLen(rank) - o);
        } else {
            int j = sent - firstSendChunks;
            if (j >= received) {
                return false;
            }
            off = recvOff[j];
            len = recvLen[j];
        }
        RingSchedule.header(slot, DATA, len * Float.BYTES);
        FloatBuffer dst = slot.asFloatBuffer();
        dst.put(0, buf, base + off, len);
        slot.limit(HEADER_BYTES + len * Float.BYTES).position(0);
        sent++;
        return true;
    }

    @Override
    public boolean hasMoreRecvs() {
        return !beginReceived || received < recvOff.length;
    }

    @Override
    public void onReceive(int tag, ByteBuffer payload) {
        int left = Math.floorMod(rank - 1, size);
        if (!beginReceived) {
            RingSchedule.checkBegin(tag, payload, OP, seq, count, "elements", rank, left);
            beginReceived = true;
            return;
        }
        int len = recvLen[received];
        if (tag != DATA || payload.remaining() != len * Float.BYTES) {
            throw new CommException(
                    "protocol error: rank " + rank + " expected " + len + " floats from left neighbour rank " + left
                            + " but got frame tag " + tag + " with " + payload.remaining() + " bytes");
        }
        int at = base + recvOff[received];
        FloatBuffer in = payload.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        int step = recvStep[received];
        if (step < size - 1) {
            in.get(0, theirs, 0, len);
            buf.get(at, mine, 0, len);
            if (step == size - 2 && scale != 1.0f) {
                float k = scale;
                for (int i = 0; i < len; i++) {
                    mine[i] = (mine[i] + theirs[i]) * k;
                }
            } else {
                for (int i = 0; i < len; i++) {
                    mine[i] += theirs[i];
                }
            }
            buf.put(at, mine, 0, len);
        } else {
            buf.put(at, in, 0, len);
        }
        received++;
    }

    @Override
    public String progress() {
        return "received " + received + " of " + recvOff.length + " chunks, sent " + sent + " of " + totalSends;
    }
}
