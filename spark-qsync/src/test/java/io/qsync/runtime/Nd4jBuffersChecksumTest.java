package io.qsync.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/** {@link Nd4jBuffers#checksum(FloatBuffer...)} against the plain definition: the CRC32 of each float's LE bytes. */
class Nd4jBuffersChecksumTest {

    /** The definition, one float at a time. */
    private static long reference(FloatBuffer... parts) {
        CRC32 crc = new CRC32();
        ByteBuffer four = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        for (FloatBuffer p : parts) {
            for (int i = p.position(); i < p.limit(); i++) {
                four.clear();
                four.putInt(Float.floatToRawIntBits(p.get(i)));
                crc.update(four.array());
            }
        }
        return crc.getValue();
    }

    private static FloatBuffer direct(float[] v) {
        FloatBuffer f = ByteBuffer.allocateDirect(4 * v.length)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        f.put(v).flip();
        return f;
    }

    private static float[] values(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        float[] special = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.MIN_VALUE, -Float.MAX_VALUE};
        for (int i = 0; i < special.length && i < n; i++) {
            v[(int) ((i * 7919L) % n)] = special[i];
        }
        return v;
    }

    @Test
    void equalsTheDefinitionAcrossChunkEdgesPositionsAndBufferKinds() {
        for (int n : new int[] {0, 1, 16_383, 16_384, 16_385, 100_003}) {
            float[] v = values(n, n);
            assertEquals(reference(FloatBuffer.wrap(v)), Nd4jBuffers.checksum(FloatBuffer.wrap(v)), "heap, " + n);
            assertEquals(reference(direct(v)), Nd4jBuffers.checksum(direct(v)), "direct, " + n);
        }
        float[] v = values(50_000, 3);
        FloatBuffer a = direct(v).position(123).limit(40_000);
        FloatBuffer b = FloatBuffer.wrap(v).position(7);
        int pos = a.position();
        assertEquals(reference(a, b), Nd4jBuffers.checksum(a, b), "two parts, positioned");
        assertEquals(pos, a.position(), "the position is not moved");
    }

    @Test
    void oneFlippedBitChangesTheChecksum() {
        float[] v = values(20_000, 11);
        long before = Nd4jBuffers.checksum(FloatBuffer.wrap(v));
        v[17_000] = Float.intBitsToFloat(Float.floatToRawIntBits(v[17_000]) ^ 1);
        assertNotEquals(before, Nd4jBuffers.checksum(FloatBuffer.wrap(v)));
    }
}
