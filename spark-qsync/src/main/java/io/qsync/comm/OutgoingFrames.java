package io.qsync.comm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The send slots of one {@link RingPipe}: a ring of frame buffers that the schedule fills ahead of the socket. A plain
 * frame is its header slot plus the schedule's payload views (one gathering write, no copy); an encrypted frame is
 * staged whole, sealed into its slot and sent from there.
 */
final class OutgoingFrames {
    private final ByteBuffer[] slots;
    /** Per slot, the buffers of its frame: the slot itself, then the schedule's payload views (gathering write). */
    private final ByteBuffer[][] frames;

    private final List<ByteBuffer> bodyParts = new ArrayList<>();
    /** Null for plain frames; else frames are sealed from {@link #staging} into the slots. */
    private final FrameCipher cipher;

    private final ByteBuffer staging;

    /**
     * @param count      slots
     * @param chunkBytes largest payload of one frame
     * @param cipher     seals every frame; null for plain frames
     */
    OutgoingFrames(int count, int chunkBytes, FrameCipher cipher) {
        this.cipher = cipher;
        int extra = cipher == null ? 0 : FrameCipher.TAG_BYTES;
        slots = new ByteBuffer[count];
        frames = new ByteBuffer[count][];
        for (int i = 0; i < count; i++) {
            slots[i] = ByteBuffer.allocateDirect(RingSchedule.HEADER_BYTES + chunkBytes + extra)
                    .order(ByteOrder.LITTLE_ENDIAN);
        }
        staging = cipher == null
                ? null
                : ByteBuffer.allocateDirect(RingSchedule.HEADER_BYTES + chunkBytes)
                        .order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Fills slot {@code i} with the schedule's next frame, sealed when encrypting; false when none is due. */
    boolean fill(RingSchedule s, int i) {
        ByteBuffer slot = slots[i];
        if (cipher == null) {
            if (!s.fillNext(slot)) {
                return false;
            }
            bodyParts.clear();
            s.body(bodyParts);
            if (bodyParts.isEmpty()) {
                frames[i] = new ByteBuffer[] {slot};
            } else {
                bodyParts.add(0, slot);
                frames[i] = bodyParts.toArray(new ByteBuffer[0]);
            }
            return true;
        }
        if (!s.fillNext(staging)) {
            return false;
        }
        bodyParts.clear();
        s.body(bodyParts);
        if (!bodyParts.isEmpty()) {
            staging.position(staging.limit()).limit(staging.capacity());
            for (ByteBuffer b : bodyParts) {
                staging.put(b);
            }
            staging.flip();
        }
        cipher.seal(staging, slot);
        frames[i] = new ByteBuffer[] {slot};
        return true;
    }

    /** The buffers of slot {@code i}'s frame (write them in order). */
    ByteBuffer[] frame(int i) {
        return frames[i];
    }

    /** True when part of slot {@code i}'s frame has gone out. */
    boolean partlySent(int i) {
        return slots[i].position() > 0;
    }
}
