package io.qsync.lowprec;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Fast element-wise access to FP32 {@link INDArray}s: rounding to a float {@link Precision} in place
 * or into a copy, and a chunked visitor over the off-heap data used by the quantizers. Works on the
 * direct NIO view of the array's buffer (no per-element JNI), in chunks of {@value #CHUNK} floats.
 */
public final class ArrayRounding {
    /** Number of floats processed per bulk copy. */
    public static final int CHUNK = 8192;

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[CHUNK]);
    private static final ThreadLocal<float[]> SCRATCH2 = ThreadLocal.withInitial(() -> new float[CHUNK]);

    private ArrayRounding() {}

    /** Processes one chunk of values in place; {@code base} is the c-order index of {@code chunk[0]}. */
    @FunctionalInterface
    public interface ChunkOp {
        /**
         * @param chunk values (modify in place to write back)
         * @param len   valid entries in {@code chunk}
         * @param base  c-order flat index of {@code chunk[0]} in the array
         */
        void apply(float[] chunk, int len, long base);
    }

    /**
     * @param x an array
     * @return true if {@code x} is FP32 and its elements lie contiguously in c order (strides of
     *         size-1 dimensions are ignored), so it can be visited in place
     */
    public static boolean isDenseFloat(INDArray x) {
        if (x.dataType() != DataType.FLOAT || x.isEmpty()) {
            return false;
        }
        long[] shape = x.shape();
        long[] stride = x.stride();
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && stride[d] != expected) {
                return false; // size-1 dimensions may carry any stride
            }
            expected *= shape[d];
        }
        return true;
    }

    /**
     * @param x an array
     * @return true if {@code x} is FP32 and its elements fill a contiguous buffer range in c
     *         <em>or</em> f order (element-wise maps can then run over the buffer directly)
     */
    public static boolean isLinearFloat(INDArray x) {
        if (isDenseFloat(x)) {
            return true;
        }
        if (x.dataType() != DataType.FLOAT || x.isEmpty()) {
            return false;
        }
        long[] shape = x.shape();
        long[] stride = x.stride();
        long expected = 1;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    /**
     * Applies an element-wise map in one pass: reads {@code src}, writes a new array of the same
     * shape and memory order. Element order seen by {@code op} is the buffer order, so use it only
     * for maps that do not depend on the index.
     *
     * @param src FP32 source, any layout (non-linear layouts are copied to c order first)
     * @param op  the map, applied in place to each chunk
     * @return the new array
     */
    public static INDArray map(INDArray src, ChunkOp op) {
        return map(src, ArrayAllocator.FRESH, "map", op);
    }

    /**
     * Like {@link #map(INDArray, ChunkOp)}, with the result array taken from {@code alloc}.
     *
     * @param src   FP32 source
     * @param alloc allocator for the result
     * @param role  allocation role
     * @param op    the map
     * @return the result array
     */
    public static INDArray map(INDArray src, ArrayAllocator alloc, String role, ChunkOp op) {
        INDArray s = isLinearFloat(src) ? src : src.castTo(DataType.FLOAT).dup('c');
        char order = isDenseFloat(s) ? 'c' : 'f';
        INDArray dst = alloc.allocate(role, order, s.shape());
        FloatBuffer in = s.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        FloatBuffer out = dst.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        int inStart = (int) s.offset();
        int outStart = (int) dst.offset();
        long n = s.length();
        float[] buf = SCRATCH.get();
        for (long done = 0; done < n; done += CHUNK) {
            int len = (int) Math.min(CHUNK, n - done);
            in.get(inStart + (int) done, buf, 0, len);
            op.apply(buf, len, done);
            out.put(outStart + (int) done, buf, 0, len);
        }
        return dst;
    }

    /** Processes one chunk into two outputs: {@code chunk} in place (first output) and {@code second}. */
    @FunctionalInterface
    public interface ChunkOp2 {
        /**
         * @param chunk  values of the source (modify in place to write the first output)
         * @param second the second output's values for the same elements (write all {@code len})
         * @param len    valid entries
         * @param base   buffer-order index of {@code chunk[0]}
         */
        void apply(float[] chunk, float[] second, int len, long base);
    }

    /**
     * Element-wise map with two results in one pass over a linear FP32 source (one read, two writes).
     * Both results have the shape and memory order of {@code src}; element order seen by {@code op} is
     * the buffer order.
     *
     * @param src   FP32 source, linear in c or f order ({@link #isLinearFloat})
     * @param alloc allocator for both results
     * @param role  allocation role of the first result
     * @param role2 allocation role of the second result
     * @param op    the map
     * @return the two results
     */
    public static INDArray[] map2(INDArray src, ArrayAllocator alloc, String role, String role2, ChunkOp2 op) {
        if (!isLinearFloat(src)) {
            throw new IllegalArgumentException("map2 needs a linear FP32 source");
        }
        char order = isDenseFloat(src) ? 'c' : 'f';
        INDArray dst = alloc.allocate(role, order, src.shape());
        INDArray dst2 = alloc.allocate(role2, order, src.shape());
        FloatBuffer in = src.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        FloatBuffer out = dst.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        FloatBuffer out2 = dst2.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        int inStart = (int) src.offset();
        int outStart = (int) dst.offset();
        int out2Start = (int) dst2.offset();
        long n = src.length();
        float[] buf = SCRATCH.get();
        float[] buf2 = SCRATCH2.get();
        for (long done = 0; done < n; done += CHUNK) {
            int len = (int) Math.min(CHUNK, n - done);
            in.get(inStart + (int) done, buf, 0, len);
            op.apply(buf, buf2, len, done);
            out.put(outStart + (int) done, buf, 0, len);
            out2.put(out2Start + (int) done, buf2, 0, len);
        }
        return new INDArray[] {dst, dst2};
    }

    /**
     * Visits every element of a dense FP32 array in c order, writing back each chunk if {@code write}.
     *
     * @param x     dense FP32 array ({@link #isDenseFloat})
     * @param write whether modified chunks are written back
     * @param op    the visitor
     */
    public static void visit(INDArray x, boolean write, ChunkOp op) {
        if (!isDenseFloat(x)) {
            throw new IllegalArgumentException("Need a c-ordered FP32 array with default strides, got " + x.dataType()
                    + " order " + x.ordering() + "; call dup('c') first");
        }
        long n = x.length();
        FloatBuffer fb = x.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        int start = (int) x.offset();
        float[] buf = SCRATCH.get();
        for (long done = 0; done < n; done += CHUNK) {
            int len = (int) Math.min(CHUNK, n - done);
            int pos = start + (int) done;
            fb.get(pos, buf, 0, len);
            op.apply(buf, len, done);
            if (write) {
                fb.put(pos, buf, 0, len);
            }
        }
    }

    /**
     * Rounds a dense FP32 array in place (any other array: rounds a dense copy and assigns it back).
     *
     * @param p target float precision
     * @param x array to modify
     */
    public static void roundInPlace(Precision p, INDArray x) {
        if (p == Precision.FP32) {
            return;
        }
        if (isDenseFloat(x)) {
            visit(x, true, (c, len, base) -> FloatRounding.roundInPlace(p, c, 0, len));
        } else {
            x.assign(rounded(p, x));
        }
    }

    /**
     * @param p target float precision
     * @param x array (any layout, FP32 or convertible)
     * @return a new FP32 array rounded to {@code p}: same memory order as {@code x} when {@code x} is
     *         linear in c or f order, c order otherwise (FP32: a c-ordered copy)
     */
    public static INDArray rounded(Precision p, INDArray x) {
        return rounded(p, x, ArrayAllocator.FRESH, "rounded");
    }

    /**
     * Like {@link #rounded(Precision, INDArray)}, with the result from {@code alloc} (FP32: a fresh c-ordered copy).
     *
     * @param p     target float precision
     * @param x     array
     * @param alloc allocator for the result
     * @param role  allocation role
     * @return the rounded array
     */
    public static INDArray rounded(Precision p, INDArray x, ArrayAllocator alloc, String role) {
        if (p == Precision.FP32) {
            return x.dataType() == DataType.FLOAT
                    ? x.dup('c')
                    : x.castTo(DataType.FLOAT).dup('c');
        }
        return map(x, alloc, role, (ch, len, base) -> FloatRounding.roundInPlace(p, ch, 0, len));
    }

    /**
     * @param x FP32 array, linear in c or f order ({@link #isLinearFloat})
     * @return max |x| over all elements (NaN ignored)
     */
    public static float amax(INDArray x) {
        float[] m = {0f};
        if (!isDenseFloat(x) && isLinearFloat(x)) {
            x = x.reshape('f', new long[] {x.length()}); // zero-copy linear view of an f-ordered array
        }
        visit(x, false, (c, len, base) -> {
            float a = m[0];
            for (int i = 0; i < len; i++) {
                a = Math.max(a, Math.abs(c[i]));
            }
            m[0] = a;
        });
        return m[0];
    }
}
