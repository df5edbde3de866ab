package io.qsync.comm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A logical float vector made of one or more little-endian byte buffers laid end to end (a gradient bucket followed
 * by the loss scalar, say), addressed by element index. The ring sends slices of the parts straight from them
 * (gathering writes) and reduces received frames into them in place, so no copy of the caller's data is made.
 */
final class FloatSpan {
    private final ByteBuffer[] parts;
    /** {@code starts[i]}: element index of part i's first float; {@code starts[parts.length]} = count. */
    private final int[] starts;

    /** @param parts little-endian buffers, each from position 0 to its limit (a multiple of 4 bytes) */
    FloatSpan(ByteBuffer... parts) {
        this.parts = parts;
        this.starts = new int[parts.length + 1];
        for (int i = 0; i < parts.length; i++) {
            starts[i + 1] = starts[i] + parts[i].limit() / Float.BYTES;
        }
    }

    /** Number of floats. */
    int count() {
        return starts[parts.length];
    }

    /** The floats {@code [from, to)} as a span over the same memory. */
    FloatSpan sub(int from, int to) {
        List<ByteBuffer> out = new ArrayList<>();
        for (int p = 0; p < parts.length; p++) {
            int a = Math.max(from, starts[p]);
            int b = Math.min(to, starts[p + 1]);
            if (a < b) {
                out.add(slice(p, a, b));
            }
        }
        return new FloatSpan(out.toArray(new ByteBuffer[0]));
    }

    /** Appends to {@code out} views of the floats {@code [off, off + len)}, one per part they touch. */
    void views(int off, int len, List<ByteBuffer> out) {
        int end = off + len;
        for (int p = part(off); p < parts.length && starts[p] < end; p++) {
            out.add(slice(p, Math.max(off, starts[p]), Math.min(end, starts[p + 1])));
        }
    }

    /**
     * {@code this[off + i] = (this[off + i] + src[i]) * scale} for {@code i < len} ({@code scale == 1}: a plain sum),
     * {@code src} little-endian from its position.
     */
    void addFrom(int off, ByteBuffer src, int len, float scale) {
        int end = off + len;
        int s = src.position();
        for (int p = part(off); p < parts.length && starts[p] < end; p++) {
            int a = Math.max(off, starts[p]);
            int b = Math.min(end, starts[p + 1]);
            FloatAdd.add(parts[p], (a - starts[p]) * Float.BYTES, src, s, b - a, scale);
            s += (b - a) * Float.BYTES;
        }
    }

    /** Copies {@code len} floats of {@code src} (from its position) to {@code [off, off + len)}. */
    void copyFrom(int off, ByteBuffer src, int len) {
        int end = off + len;
        int s = src.position();
        for (int p = part(off); p < parts.length && starts[p] < end; p++) {
            int a = Math.max(off, starts[p]);
            int b = Math.min(end, starts[p + 1]);
            parts[p].put((a - starts[p]) * Float.BYTES, src, s, (b - a) * Float.BYTES);
            s += (b - a) * Float.BYTES;
        }
    }

    private int part(int element) {
        int p = 0;
        while (p < parts.length - 1 && starts[p + 1] <= element) {
            p++;
        }
        return p;
    }

    private ByteBuffer slice(int p, int from, int to) {
        return parts[p].slice((from - starts[p]) * Float.BYTES, (to - from) * Float.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
    }
}
