package io.qsync.comm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The ring's reduction kernel on little-endian byte buffers: {@code dst[i] = (dst[i] + src[i]) * scale}. It uses the
 * Vector API ({@code jdk.incubator.vector}, on the JVM flags of the build and of Spark's launcher scripts) when the
 * module is present and falls back to a scalar loop otherwise; both do one IEEE single-precision add (and, when
 * {@code scale != 1}, one multiply) per element in the same order, so results are bitwise the same either way.
 */
final class FloatAdd {
    private static final boolean VECTOR = vectorAvailable();

    private FloatAdd() {}

    /** True when the Vector API kernel is used. */
    static boolean vectorised() {
        return VECTOR;
    }

    /**
     * @param dst    little-endian target
     * @param dstOff byte offset in {@code dst}
     * @param src    little-endian source
     * @param srcOff byte offset in {@code src}
     * @param n      floats
     * @param scale  applied to each sum (1: none)
     */
    static void add(ByteBuffer dst, int dstOff, ByteBuffer src, int srcOff, int n, float scale) {
        if (VECTOR && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            VectorFloatAdd.add(dst, dstOff, src, srcOff, n, scale);
        } else {
            scalar(dst, dstOff, src, srcOff, n, scale, 0);
        }
    }

    /** The scalar loop from float {@code from} on (the vector kernel's tail). */
    static void scalar(ByteBuffer dst, int dstOff, ByteBuffer src, int srcOff, int n, float scale, int from) {
        ByteBuffer d =
                dst.order() == ByteOrder.LITTLE_ENDIAN ? dst : dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer s =
                src.order() == ByteOrder.LITTLE_ENDIAN ? src : src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        for (int i = from; i < n; i++) {
            int a = dstOff + i * Float.BYTES;
            float v = d.getFloat(a) + s.getFloat(srcOff + i * Float.BYTES);
            d.putFloat(a, scale == 1.0f ? v : v * scale);
        }
    }

    private static boolean vectorAvailable() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return false;
        }
        try {
            ByteBuffer a = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN);
            VectorFloatAdd.add(a, 0, a.duplicate(), 0, 16, 1.0f);
            return true;
        } catch (LinkageError | RuntimeException e) {
            return false;
        }
    }
}
