package io.qsync.comm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** {@link FloatAdd}'s Vector API kernel; loaded only when the {@code jdk.incubator.vector} module is present. */
final class VectorFloatAdd {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private VectorFloatAdd() {}

    static void add(ByteBuffer dst, int dstOff, ByteBuffer src, int srcOff, int n, float scale) {
        int step = SPECIES.length();
        int bound = SPECIES.loopBound(n);
        ByteOrder le = ByteOrder.LITTLE_ENDIAN;
        int i = 0;
        if (scale == 1.0f) {
            for (; i < bound; i += step) {
                int d = dstOff + i * Float.BYTES;
                FloatVector.fromByteBuffer(SPECIES, dst, d, le)
                        .add(FloatVector.fromByteBuffer(SPECIES, src, srcOff + i * Float.BYTES, le))
                        .intoByteBuffer(dst, d, le);
            }
        } else {
            for (; i < bound; i += step) {
                int d = dstOff + i * Float.BYTES;
                FloatVector.fromByteBuffer(SPECIES, dst, d, le)
                        .add(FloatVector.fromByteBuffer(SPECIES, src, srcOff + i * Float.BYTES, le))
                        .mul(scale)
                        .intoByteBuffer(dst, d, le);
            }
        }
        FloatAdd.scalar(dst, dstOff, src, srcOff, n, scale, i);
    }
}
