package io.qsync.comm;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

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
 *
 * <p>Frames are sent straight from the caller's memory ({@link #body}: gathering writes) and received chunks are
 * reduced into it in place by the vectorised {@link FloatAdd}. The chunk is at most the configured chunk size and
 * small enough that every segment is cut into {@value #PIPELINE} chunks (but not below {@value #MIN_CHUNK_BYTES}
 * bytes), so a 4 MiB all-reduce is pipelined as deeply as a 64 MiB one.
 */
final class AllReduceSchedule implements RingSchedule {
    static final int OP = 1;
    /** Chunks per segment the chunk size aims at. */
    static final int PIPELINE = 4;
    /** Smallest chunk the pipelining cuts a segment into. */
    static final int MIN_CHUNK_BYTES = 64 << 10;

    private final FloatSpan buf;
    private final int count;
    private final int size;
    private final int rank;
    private final long seq;
    private final float scale;
    private final int chunkFloats;
    private final List<ByteBuffer> body = new ArrayList<>();
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

    AllReduceSchedule(FloatSpan buf, ReduceOp op, int rank, int size, long seq, int chunkBytes) {
        this.buf = buf;
        this.count = buf.count();
        this.rank = rank;
        this.size = size;
        this.seq = seq;
        this.scale = op == ReduceOp.AVERAGE ? 1.0f / size : 1.0f;
        this.chunkFloats = chunkFloats(count, size, chunkBytes);
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

    /** The chunk (in floats) for {@code count} floats over {@code size} ranks: the same on every rank. */
    static int chunkFloats(int count, int size, int chunkBytes) {
        int max = chunkBytes / Float.BYTES;
        int min = Math.min(max, MIN_CHUNK_BYTES / Float.BYTES);
        int seg = (count + size - 1) / size;
        return Math.max(min, Math.min(max, (seg + PIPELINE - 1) / PIPELINE));
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
        slot.flip();
        body.clear();
        buf.views(off, len, body);
        sent++;
        return true;
    }

    @Override
    public void body(List<ByteBuffer> out) {
        out.addAll(body);
        body.clear();
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
        int at = recvOff[received];
        int step = recvStep[received];
        if (step < size - 1) {
            buf.addFrom(at, payload, len, step == size - 2 ? scale : 1.0f);
        } else {
            buf.copyFrom(at, payload, len);
        }
        received++;
    }

    @Override
    public String progress() {
        return "received " + received + " of " + recvOff.length + " chunks, sent " + sent + " of " + totalSends;
    }
}
