package io.qsync.lowprec.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** INT8 quantizer: scales, rounding modes, per-channel layout, stochastic unbiasedness and determinism. */
class Int8QuantizerTest {

    /**
     * 1000 random x, 10^6 draws each. For an ideal RNG each z = (mean - x) / SE is ~N(0,1), so about
     * 2.7 of 1000 exceed 3 SE by chance; the test requires at most 10 (P < 1e-4 for an ideal RNG),
     * none beyond 5 SE, and z-scores with mean ~0 and variance ~1 (no bias, correct spread).
     */
    @Test
    void stochasticRoundingIsUnbiased() {
        Int8Quantizer q = new Int8Quantizer(Granularity.PER_TENSOR, IntRounding.STOCHASTIC, 1234L);
        Random r = new Random(99);
        int draws = 1_000_000;
        int beyond3 = 0;
        double maxZ = 0;
        double sumZ = 0;
        double sumZ2 = 0;
        int nz = 0;
        for (int t = 0; t < 1000; t++) {
            float x = (float) (r.nextDouble() * 240 - 120);
            double sum = 0;
            double sumSq = 0;
            for (int i = 0; i < draws; i++) {
                double c = q.code(x, t, i);
                sum += c;
                sumSq += c * c;
            }
            double mean = sum / draws;
            double var = Math.max(0, sumSq / draws - mean * mean);
            double se = Math.sqrt(var / draws);
            double floor = Math.floor(x);
            assertTrue(mean >= floor && mean <= floor + 1, "q must be floor(x) or floor(x)+1");
            if (se == 0) {
                assertEquals(x, mean, 0.0);
                continue;
            }
            double z = (mean - x) / se;
            beyond3 += Math.abs(z) > 3 ? 1 : 0;
            maxZ = Math.max(maxZ, Math.abs(z));
            sumZ += z;
            sumZ2 += z * z;
            nz++;
        }
        double meanZ = sumZ / nz;
        double varZ = sumZ2 / nz - meanZ * meanZ;
        System.out.printf(
                "stochastic rounding: %d of %d x beyond 3 SE (ideal RNG: 2.7 expected), max |z| %.2f, mean z %.3f, var z %.3f%n",
                beyond3, nz, maxZ, meanZ, varZ);
        assertTrue(beyond3 <= 10, beyond3 + " of 1000 beyond 3 SE");
        assertTrue(maxZ < 5, "max |z| " + maxZ);
        assertTrue(Math.abs(meanZ) < 0.13, "mean z " + meanZ);
        assertTrue(varZ > 0.8 && varZ < 1.2, "var z " + varZ);
    }

    @Test
    void stochasticRoundingIsDeterministicPerSeedStreamAndIndex() {
        INDArray x =
                Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 64, 33).subi(0.5);
        Int8Quantizer q = new Int8Quantizer(Granularity.PER_TENSOR, IntRounding.STOCHASTIC, 7L);
        float[] a = q.quantizePerTensor(x, 5).codes().data().asFloat();
        float[] b = q.quantizePerTensor(x.dup('f'), 5).codes().data().asFloat();
        assertArrayEquals(a, b);
        float[] c = q.quantizePerTensor(x, 6).codes().data().asFloat();
        assertTrue(!java.util.Arrays.equals(a, c), "different streams must give different draws");
    }

    @Test
    void truncateNearestAndClampFollowQsync() {
        INDArray x = Nd4j.createFromArray(new float[] {-2.54f, -1.0f, 0f, 0.994f, 1.27f});
        QuantizedTensor t = new Int8Quantizer(Granularity.PER_TENSOR, IntRounding.TRUNCATE, 0).quantizePerTensor(x, 0);
        assertEquals(2.54f / 127, t.scale());
        float s = t.scale();
        float[] expected = new float[5];
        float[] in = x.data().asFloat();
        for (int i = 0; i < 5; i++) {
            expected[i] = Math.max(-127, Math.min(127, (int) (in[i] / s)));
        }
        assertArrayEquals(expected, t.codes().data().asFloat());
        QuantizedTensor n = new Int8Quantizer(Granularity.PER_TENSOR, IntRounding.NEAREST, 0).quantizePerTensor(x, 0);
        for (int i = 0; i < 5; i++) {
            expected[i] = (float) Math.rint(in[i] / s);
        }
        assertArrayEquals(expected, n.codes().data().asFloat());
        assertEquals(-127f, n.codes().getFloat(0));
        assertEquals(5, t.storageBytes());
    }

    @Test
    void perChannelScalesFollowTheChannelAxis() {
        INDArray w = Nd4j.createFromArray(new float[][] {{1f, -20f, 0f}, {-4f, 10f, 0f}}); // [nIn=2, nOut=3]
        QuantizedTensor t = new Int8Quantizer(Granularity.PER_CHANNEL, IntRounding.NEAREST, 0).quantizeWeights(w, 1, 0);
        assertArrayEquals(new float[] {4f / 127, 20f / 127, 1f}, t.scales());
        assertEquals(127f, Math.abs(t.codes().getFloat(1, 0)));
        assertEquals(-127f, t.codes().getFloat(0, 1));
        INDArray d = t.dequantize();
        assertEquals(-20f, d.getFloat(0, 1), 1e-5f);
        assertEquals(0f, d.getFloat(1, 2));
        INDArray conv = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 4, 3, 2, 2);
        conv.get(org.nd4j.linalg.indexing.NDArrayIndex.point(2)).muli(100);
        QuantizedTensor c =
                new Int8Quantizer(Granularity.PER_CHANNEL, IntRounding.NEAREST, 0).quantizeWeights(conv, 0, 0);
        assertEquals(4, c.scales().length);
        assertTrue(c.scales()[2] > 50 * c.scales()[0]);
    }
}
