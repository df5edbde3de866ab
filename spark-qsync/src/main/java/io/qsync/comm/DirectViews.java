package io.qsync.comm;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Little-endian byte views of the caller's float buffers, so the ring reads and writes the caller's memory directly (an
 * ND4J gradient is a direct {@link FloatBuffer} over off-heap memory). A direct native-order float buffer is viewed in
 * place through the JDK's own direct-buffer constructor (reachable with {@code --add-opens java.base/java.nio}, which
 * Spark's launcher and this build pass); anything else (heap buffers, big-endian hosts, a JVM without the opens) gets
 * {@code null} and the caller stages the data through a buffer of its own.
 */
final class DirectViews {
    private static final Field ADDRESS = field();
    private static final MethodHandle NEW_DIRECT = constructor();

    private DirectViews() {}

    /** True when in-place views are available on this JVM. */
    static boolean available() {
        return ADDRESS != null && NEW_DIRECT != null;
    }

    /**
     * @param buf a float buffer; its {@code [position, limit)} is viewed
     * @return a little-endian byte buffer over exactly that memory (position 0), or null if it cannot be viewed
     */
    static ByteBuffer bytes(FloatBuffer buf) {
        if (!available() || !buf.isDirect() || buf.order() != ByteOrder.LITTLE_ENDIAN) {
            return null;
        }
        try {
            long address = ADDRESS.getLong(buf) + (long) buf.position() * Float.BYTES;
            long bytes = (long) buf.remaining() * Float.BYTES;
            if (bytes > Integer.MAX_VALUE) {
                return null;
            }
            ByteBuffer b = (ByteBuffer) NEW_DIRECT.invoke(address, (int) bytes);
            return b.order(ByteOrder.LITTLE_ENDIAN);
        } catch (Throwable e) {
            return null;
        }
    }

    private static Field field() {
        try {
            Field f = Buffer.class.getDeclaredField("address");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private static MethodHandle constructor() {
        try {
            Class<?> c = Class.forName("java.nio.DirectByteBuffer");
            Constructor<?> k = c.getDeclaredConstructor(long.class, int.class);
            k.setAccessible(true);
            return MethodHandles.lookup()
                    .unreflectConstructor(k)
                    .asType(MethodType.methodType(Object.class, long.class, int.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
