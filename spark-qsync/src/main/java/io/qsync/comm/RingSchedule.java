package io.qsync.comm;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The frame sequence one rank sends to its right neighbour and receives from its left neighbour during one ring
 * collective. {@link RingPipe} drives it: it asks for the next outgoing frame as soon as it has a free send slot, and
 * hands over every received frame in order. Frames are {@code [int tag][int payloadBytes][payload]}, little-endian.
 */
interface RingSchedule {
    /** Frame tag: the collective's opening header (op, sequence number, count). */
    int BEGIN = 1;
    /** Frame tag: payload data. */
    int DATA = 2;
    /** Frame tag: an all-gather entry's length (int payload). */
    int ENTRY = 3;
    /** Frame tag: the sender aborted; the payload is the UTF-8 reason. Never passed to a schedule. */
    int ABORT = 4;
    /** Bytes of a frame header. */
    int HEADER_BYTES = 8;

    /** True while this rank still has frames to send. */
    boolean hasMoreSends();

    /**
     * Writes the next outgoing frame (header and payload) into {@code slot} from position 0 if its data is ready.
     *
     * @return false if the next frame depends on a frame not yet received
     */
    boolean fillNext(ByteBuffer slot);

    /**
     * Called after every successful {@link #fillNext}: appends the frame's payload buffers, sent after the slot by one
     * gathering write (views of the caller's memory, so nothing is copied); none when the slot holds the whole frame.
     * The header's payload length covers slot payload and these buffers together.
     */
    default void body(List<ByteBuffer> out) {}

    /** True while this rank still expects frames. */
    boolean hasMoreRecvs();

    /**
     * Consumes the next received frame.
     *
     * @param payload position 0, limit = payload length, little-endian
     * @throws CommException on a mismatch with the peer (the message says which setting or call differs)
     */
    void onReceive(int tag, ByteBuffer payload);

    /** Progress description for timeout messages, e.g. {@code "received 3 of 8 frames, sent 4 of 8"}. */
    String progress();

    /** Writes a frame header into {@code slot} at position 0. */
    static void header(ByteBuffer slot, int tag, int payloadBytes) {
        slot.clear();
        slot.putInt(tag).putInt(payloadBytes);
    }

    /** Writes a BEGIN frame. */
    static void begin(ByteBuffer slot, int op, long seq, long count) {
        header(slot, BEGIN, 20);
        slot.putInt(op).putLong(seq).putLong(count);
        slot.flip();
    }

    /** Returns the name of a collective op code. */
    static String opName(int op) {
        return switch (op) {
            case 1 -> "allReduce";
            case 2 -> "allGather";
            case 3 -> "barrier";
            default -> "op#" + op;
        };
    }

    /**
     * Validates a received BEGIN frame against this rank's own call.
     *
     * @param what the ranks involved, e.g. "rank 2 / left neighbour rank 1"
     */
    static void checkBegin(
            int tag, ByteBuffer p, int op, long seq, long count, String countName, int rank, int leftRank) {
        if (tag != BEGIN || p.remaining() != 20) {
            throw new CommException("protocol error: rank " + rank + " expected the header of " + opName(op) + " #"
                    + seq + " from left neighbour rank " + leftRank + " but got frame tag " + tag
                    + " (peers out of step)");
        }
        int pop = p.getInt();
        long pseq = p.getLong();
        long pcount = p.getLong();
        if (pop != op || pseq != seq) {
            throw new CommException("collective mismatch: rank " + rank + " called " + opName(op) + " #" + seq
                    + " but left neighbour rank " + leftRank + " called " + opName(pop) + " #" + pseq
                    + " (every rank must call the same collectives in the same order)");
        }
        if (pcount != count) {
            throw new CommException(opName(op) + " #" + seq + " length mismatch: rank " + rank + " has " + count + " "
                    + countName + " but left neighbour rank " + leftRank + " has " + pcount
                    + " (every rank must pass buffers of the same length)");
        }
    }
}
