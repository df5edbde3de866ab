package io.qsync.lowprec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The stochastic-rounding draw: its definition (which the GPU kernels reproduce) and its distribution. */
class CounterRngTest {

    /** Four consecutive elements 4g..4g+3 carry the four 16-bit fields of bits(seed, stream, g), lowest first. */
    @Test
    void fourElementsShareOneHashFieldByField() {
        Random r = new Random(11);
        for (int t = 0; t < 10_000; t++) {
            long seed = r.nextLong();
            long stream = r.nextInt(1 << 20);
            long g = r.nextLong() >>> 3;
            long rebuilt = 0;
            for (int j = 0; j < 4; j++) {
                float u = CounterRng.roundingUniform(seed, stream, 4 * g + j);
                float twoKPlus1 = u * 0x1p17f; // exact
                assertEquals(Math.rint(twoKPlus1), twoKPlus1, 0.0, "odd multiple of 2^-17");
                long k = ((long) twoKPlus1 - 1) / 2;
                assertTrue(k >= 0 && k < 65536);
                rebuilt |= k << (16 * j);
            }
            assertEquals(CounterRng.bits(seed, stream, g), rebuilt);
        }
    }

    /**
     * The GPU builds u from bits: float(0x43000000 | k) = 128 + k·2^-16, minus (128 - 2^-17), exact by Sterbenz.
     * Checked here for every k, so the kernel's formula and this class's agree bit for bit.
     */
    @Test
    void gpuBitAssemblyGivesTheSameFloatForEveryField() {
        float bias = 127.99999237060546875f;
        assertEquals(128.0 - 0x1p-17, bias, 0.0);
        for (int k = 0; k < 65536; k++) {
            float gpu = Float.intBitsToFloat(0x43000000 | k) - bias;
            assertEquals(Float.floatToRawIntBits((2 * k + 1) * 0x1p-17f), Float.floatToRawIntBits(gpu), "k=" + k);
        }
    }

    /** Each field position is uniform over its 65536 midpoints (chi-square over 256 bins) with mean 1/2. */
    @Test
    void everyFieldPositionIsUniform() {
        int perLane = 1 << 18;
        for (int lane = 0; lane < 4; lane++) {
            long[] bins = new long[256];
            double sum = 0;
            for (long g = 0; g < perLane; g++) {
                float u = CounterRng.roundingUniform(42L, 3L, 4 * g + lane);
                assertTrue(u > 0f && u < 1f);
                sum += u;
                bins[(int) (u * 256)]++;
            }
            double expected = perLane / 256.0;
            double chi2 = 0;
            for (long b : bins) {
                chi2 += (b - expected) * (b - expected) / expected;
            }
            // 255 degrees of freedom: mean 255, sd ~22.6; 400 is beyond 6 sd
            assertTrue(chi2 < 400, "lane " + lane + " chi2 " + chi2);
            assertEquals(0.5, sum / perLane, 5 * Math.sqrt(1.0 / 12 / perLane), "lane " + lane + " mean");
        }
    }
}
