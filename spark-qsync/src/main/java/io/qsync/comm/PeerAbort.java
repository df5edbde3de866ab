package io.qsync.comm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A ring neighbour's failure as {@link RingPipe} learns it: an ABORT notice carrying the origin's reason
 * ({@link #notice} true), or end-of-stream. Also the notice's wire form: {@code ABORT, length, UTF-8 reason}.
 */
final class PeerAbort extends CommException {
    /** Longest reason a notice carries (longer ones are cut). */
    static final int MAX_REASON_BYTES = 16 * 1024;

    private static final long serialVersionUID = 1L;
    /** True when the neighbour sent a notice with its reason; false for end-of-stream. */
    final boolean notice;

    PeerAbort(String reason, boolean notice) {
        super(reason);
        this.notice = notice;
    }

    /** The ABORT frame for {@code reason}, ready to write. */
    static ByteBuffer notice(String reason) {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        int len = Math.min(r.length, MAX_REASON_BYTES);
        ByteBuffer notice = ByteBuffer.allocate(RingSchedule.HEADER_BYTES + len).order(ByteOrder.LITTLE_ENDIAN);
        return notice.putInt(RingSchedule.ABORT).putInt(len).put(r, 0, len).flip();
    }

    /** The reason of a complete ABORT notice at the start of {@code back} (filled up to its position), else null. */
    static String reasonIn(ByteBuffer back) {
        if (back.position() >= RingSchedule.HEADER_BYTES && back.getInt(0) == RingSchedule.ABORT) {
            int len = back.getInt(4);
            if (back.position() >= RingSchedule.HEADER_BYTES + len) {
                byte[] b = new byte[len];
                back.get(RingSchedule.HEADER_BYTES, b);
                return new String(b, StandardCharsets.UTF_8);
            }
        }
        return null;
    }
}
