package io.qsync.lowprec.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.ops.GemmContext;
import io.qsync.lowprec.ops.LowPrecisionGemm;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Opt-in delayed scaling of INT8 activations: first call = QSync, stale scale afterwards, saturation counted. */
class Int8DelayedScalingTest {
    private static float[] rand(Random r, int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * scale);
        }
        return x;
    }

    @Test
    void firstCallIsQsyncThenHistoryScaleAndSaturation() {
        Random r = new Random(5);
        for (IntRounding mode : IntRounding.values()) {
            Int8Quantizer q = new Int8Quantizer(Granularity.PER_TENSOR, mode, 77L);
            Int8DelayedScaling d = new Int8DelayedScaling(q, 1);
            float[] x1 = rand(r, 4000, 1f);
            Int8DelayedScaling.Result a = d.quantize(x1, 3);
            INDArray ref = q.quantizePerTensor(Nd4j.createFromArray(x1), 3).codes();
            assertArrayEquals(ref.data().asFloat(), a.codes(), 0f, "first call = QSync dynamic, " + mode);
            assertEquals(0, a.saturated());
            float[] x2 = rand(r, 4000, 2f);
            Int8DelayedScaling.Result b = d.quantize(x2, 3);
            assertEquals(Int8Quantizer.scaleFor(a.amax()), b.scale(), 0f, "second call uses the first call's amax");
            long sat = 0;
            for (int i = 0; i < x2.length; i++) {
                float raw = q.rawCode(x2[i] / b.scale(), 3, i);
                sat += Math.abs(raw) > 127 ? 1 : 0;
                assertEquals(Math.max(-127, Math.min(127, raw)), b.codes()[i], 0f);
            }
            assertEquals(sat, b.saturated());
            assertTrue(b.saturated() > 0, "range doubled: some values saturate");
            Int8DelayedScaling.Result c = d.quantize(rand(r, 4000, 0.5f), 3);
            assertEquals(Int8Quantizer.scaleFor(b.amax()), c.scale(), 0f, "H = 1: only the previous call counts");
            assertEquals(0, c.saturated());
        }
    }

    @Test
    void historyTakesTheMaximum() {
        Random r = new Random(6);
        Int8DelayedScaling d = new Int8DelayedScaling(Int8Quantizer.QSYNC_DEFAULT, 3);
        Int8DelayedScaling.Result big = d.quantize(rand(r, 1000, 4f), 0);
        d.quantize(rand(r, 1000, 1f), 0);
        d.quantize(rand(r, 1000, 1f), 0);
        Int8DelayedScaling.Result fourth = d.quantize(rand(r, 1000, 1f), 0);
        assertEquals(Int8Quantizer.scaleFor(big.amax()), fourth.scale(), 0f, "call 4 still sees call 1's amax (H = 3)");
        Int8DelayedScaling.Result fifth = d.quantize(rand(r, 1000, 1f), 0);
        assertTrue(fifth.scale() < fourth.scale(), "call 1 has left the history");
        d.reset();
        assertEquals(0, d.calls());
    }

    @Test
    void gemmDefaultIsDynamicAndDelayedIsOptIn() {
        assertNull(new LowPrecisionGemm(Precision.INT8, Int8Quantizer.QSYNC_DEFAULT).delayedScaling());
        LowPrecisionGemm g = new LowPrecisionGemm(Precision.INT8, Int8Quantizer.QSYNC_DEFAULT, 1);
        Random r = new Random(7);
        INDArray w = Nd4j.createFromArray(rand(r, 16 * 8, 0.1f)).reshape(16, 8).castTo(DataType.FLOAT);
        INDArray x1 = Nd4j.createFromArray(rand(r, 4 * 16, 1f)).reshape(4, 16);
        INDArray x2 = x1.mul(3f);
        GemmContext c1 = g.prepare(x1, w, 0);
        GemmContext c2 = g.prepare(x2, w, 0);
        assertEquals(c1.x().scale(), c2.x().scale(), 0f, "second forward reuses the first forward's scale");
        assertTrue(g.delayedScaling().lastSaturated() > 0);
        LowPrecisionGemm dyn = new LowPrecisionGemm(Precision.INT8, Int8Quantizer.QSYNC_DEFAULT);
        assertEquals(
                dyn.prepare(x2, w, 0).x().scale(),
                3f * c1.x().scale(),
                1e-6f * c1.x().scale());
    }
}
