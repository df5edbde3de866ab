package io.qsync.comm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The ring's reduction kernel: the Vector API path and the scalar loop give the same bits as plain float code. */
class FloatAddTest {

    @Test
    void kernelMatchesPlainFloatArithmeticBitwiseAtEveryLengthAndOffset() {
        Random r = new Random(7);
        for (int n : new int[] {0, 1, 3, 8, 15, 16, 17, 64, 1001}) {
            for (float scale : new float[] {1.0f, 1.0f / 3}) {
                for (boolean vector : new boolean[] {true, false}) {
                    ByteBuffer dst = ByteBuffer.allocateDirect(4 * n + 12).order(ByteOrder.LITTLE_ENDIAN);
                    ByteBuffer src = ByteBuffer.allocate(4 * n + 8).order(ByteOrder.LITTLE_ENDIAN);
                    float[] a = new float[n];
                    float[] b = new float[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = (float) r.nextGaussian() * 1e3f;
                        b[i] = (float) r.nextGaussian();
                        dst.putFloat(12 + 4 * i, a[i]);
                        src.putFloat(8 + 4 * i, b[i]);
                    }
                    if (vector) {
                        FloatAdd.add(dst, 12, src, 8, n, scale);
                    } else {
                        FloatAdd.scalar(dst, 12, src, 8, n, scale, 0);
                    }
                    for (int i = 0; i < n; i++) {
                        float want = scale == 1.0f ? a[i] + b[i] : (a[i] + b[i]) * scale;
                        assertEquals(
                                Float.floatToRawIntBits(want),
                                Float.floatToRawIntBits(dst.getFloat(12 + 4 * i)),
                                "n=" + n + " i=" + i + " vector=" + vector);
                    }
                }
            }
        }
        assertEquals(true, FloatAdd.vectorised(), "the build's JVM flags add jdk.incubator.vector");
    }
}
