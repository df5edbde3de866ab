package io.qsync.comm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM for the frames of one ring member: one key per direction (derived from the ring's secret and the
 * sender's rank), a 96-bit nonce made of a direction marker and a frame counter (TCP keeps frames in order, so both
 * ends count alike and a nonce is never reused under a key), the frame's tag as associated data. A sealed frame is
 * the plain header with the length of the ciphertext, then the ciphertext and its 16-byte authentication tag. A
 * frame that fails authentication (tampered, replayed, or another key) fails the collective.
 */
final class FrameCipher {
    /** Bytes the GCM authentication tag adds to every payload. */
    static final int TAG_BYTES = 16;

    private final SecretKeySpec sendKey;
    private final SecretKeySpec recvKey;
    private final Cipher enc;
    private final Cipher dec;
    private final byte[] aad = new byte[4];
    private long sent;
    private long received;

    /** Keys of this rank's outgoing (to the right) and incoming (from the left) direction. */
    FrameCipher(byte[] sendKey, byte[] recvKey) {
        this.sendKey = new SecretKeySpec(sendKey, 0, 32, "AES");
        this.recvKey = new SecretKeySpec(recvKey, 0, 32, "AES");
        try {
            enc = Cipher.getInstance("AES/GCM/NoPadding");
            dec = Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM is not available in this JVM", e);
        }
    }

    /** The cipher of {@code rank} in a ring of {@code size} keyed by {@code auth}'s secret. */
    static FrameCipher forRank(RingAuth auth, int rank, int size) {
        return forConnection(auth, rank, size, 0);
    }

    /** As {@link #forRank} for connection {@code c} of each neighbour pair (its own keys: nonces never repeat). */
    static FrameCipher forConnection(RingAuth auth, int rank, int size, int c) {
        int left = (rank + size - 1) % size;
        String sfx = c == 0 ? "" : "-connection-" + c;
        return new FrameCipher(
                auth.subKey("qsync-frames-from-" + rank + sfx), auth.subKey("qsync-frames-from-" + left + sfx));
    }

    /**
     * Seals the frame in {@code plain} (header and payload from position 0 to the limit) into {@code out}, which is left
     * ready to send (position 0, limit at the end).
     */
    void seal(ByteBuffer plain, ByteBuffer out) {
        int tag = plain.getInt(0);
        int len = plain.getInt(4);
        out.clear();
        out.putInt(tag).putInt(len + TAG_BYTES);
        ByteBuffer payload = plain.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        payload.limit(RingSchedule.HEADER_BYTES + len).position(RingSchedule.HEADER_BYTES);
        try {
            enc.init(Cipher.ENCRYPT_MODE, sendKey, new GCMParameterSpec(128, nonce(sent++)));
            enc.updateAAD(aad(tag));
            enc.doFinal(payload, out);
        } catch (GeneralSecurityException e) {
            throw new CommException("cannot encrypt a ring frame: " + e, e);
        }
        out.flip();
    }

    /**
     * Opens a received sealed payload into {@code out}.
     *
     * @return {@code out} with position 0 and limit at the end of the plain payload
     * @throws CommException if the frame fails authentication
     */
    ByteBuffer open(int tag, ByteBuffer sealed, ByteBuffer out, String from) {
        out.clear();
        try {
            dec.init(Cipher.DECRYPT_MODE, recvKey, new GCMParameterSpec(128, nonce(received++)));
            dec.updateAAD(aad(tag));
            dec.doFinal(sealed, out);
        } catch (AEADBadTagException e) {
            throw new CommException("a ring frame from " + from + " failed authentication (tampered, replayed or sent "
                    + "under another key)");
        } catch (GeneralSecurityException e) {
            throw new CommException("cannot decrypt a ring frame from " + from + ": " + e, e);
        }
        return out.flip();
    }

    private byte[] aad(int tag) {
        aad[0] = (byte) tag;
        aad[1] = (byte) (tag >>> 8);
        aad[2] = (byte) (tag >>> 16);
        aad[3] = (byte) (tag >>> 24);
        return aad;
    }

    private static byte[] nonce(long counter) {
        return ByteBuffer.allocate(12).putInt(0x51534E43).putLong(counter).array();
    }
}
