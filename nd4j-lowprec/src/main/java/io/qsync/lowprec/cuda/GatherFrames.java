package io.qsync.lowprec.cuda;

import java.nio.ByteBuffer;

/**
 * The layout of a byte all-gather over fixed-size NCCL collectives: every rank's length (an int32 in native order)
 * gathered first, then every rank's bytes padded with zeros to the longest length ({@link #width}).
 */
final class GatherFrames {
    /** Largest array one rank may contribute (the padded gather must fit one 2 GiB transfer for 64 ranks). */
    static final int MAX_BYTES = 32 << 20;

    private GatherFrames() {}

    /** Reads and checks {@code size} lengths from {@code buf} (native order, from index 0). */
    static int[] lengths(ByteBuffer buf, int size) {
        int[] out = new int[size];
        for (int r = 0; r < size; r++) {
            out[r] = buf.getInt(4 * r);
            if (out[r] < 0 || out[r] > MAX_BYTES) {
                throw new IllegalStateException("allGather: rank " + r + " sent length " + out[r] + " (more than "
                        + MAX_BYTES + " bytes, or a peer called another collective)");
            }
        }
        return out;
    }

    /** @return the longest length: every rank's padded share of the second gather */
    static int width(int[] lengths) {
        int w = 0;
        for (int l : lengths) {
            w = Math.max(w, l);
        }
        return w;
    }

    /** Cuts the gathered padded shares ({@code width} bytes each, from index 0 of {@code all}) into arrays. */
    static byte[][] split(ByteBuffer all, int[] lengths, int width) {
        byte[][] out = new byte[lengths.length][];
        for (int r = 0; r < lengths.length; r++) {
            out[r] = new byte[lengths[r]];
            all.get(r * width, out[r]);
        }
        return out;
    }
}
