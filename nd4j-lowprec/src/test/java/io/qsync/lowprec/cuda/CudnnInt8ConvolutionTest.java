package io.qsync.lowprec.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.quant.Granularity;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.IntRounding;
import io.qsync.lowprec.train.ConvGeom;
import org.junit.jupiter.api.Test;

/**
 * Which INT8 layers {@link CudnnInt8Convolution} may compute (no device needed): its forward quantizes the input once,
 * so it is exact only where the input's amax is the columns' amax, i.e. every input pixel lies in some window, and
 * where a code depends on the value alone (per tensor, not stochastic). Checked against a brute-force walk over the
 * windows for every small geometry.
 */
class CudnnInt8ConvolutionTest {

    /** Whether some window reads input row {@code r}: brute force. */
    private static boolean read(int r, int in, int kernel, int stride, int pad, int out) {
        for (int o = 0; o < out; o++) {
            int start = o * stride - pad;
            if (r >= start && r < start + kernel) {
                return true;
            }
        }
        return false;
    }

    private static boolean allRead(int in, int kernel, int stride, int pad, int out) {
        for (int r = 0; r < in; r++) {
            if (!read(r, in, kernel, stride, pad, out)) {
                return false;
            }
        }
        return true;
    }

    @Test
    void coverageMatchesABruteForceWalkOverTheWindows() {
        int checked = 0;
        int uncovered = 0;
        for (int in = 1; in <= 12; in++) {
            for (int k = 1; k <= 5; k++) {
                for (int s = 1; s <= 3; s++) {
                    for (int p = 0; p < k; p++) {
                        int out = (in + 2 * p - k) / s + 1;
                        if (in + 2 * p < k || out < 1) {
                            continue;
                        }
                        ConvGeom g = new ConvGeom(1, in, in, k, k, s, s, p, p, out, out);
                        boolean want = allRead(in, k, s, p, out);
                        assertEquals(want, CudnnInt8Convolution.coversInput(g), g.toString());
                        checked++;
                        uncovered += want ? 0 : 1;
                    }
                }
            }
        }
        assertTrue(checked > 300 && uncovered > 20, checked + " geometries, " + uncovered + " not covered");
    }

    @Test
    void onlyValueOnlyPerTensorQuantizersOnCoveredSymmetricGeometries() {
        ConvGeom vgg = new ConvGeom(64, 28, 28, 3, 3, 1, 1, 1, 1, 28, 28);
        assertNull(CudnnInt8Convolution.unsupported(vgg, Int8Quantizer.QSYNC_DEFAULT));
        assertNull(CudnnInt8Convolution.unsupported(
                vgg, new Int8Quantizer(Granularity.PER_TENSOR, IntRounding.NEAREST, 0L)));
        assertTrue(CudnnInt8Convolution.unsupported(
                        vgg, new Int8Quantizer(Granularity.PER_CHANNEL, IntRounding.TRUNCATE, 0L))
                .contains("per-channel"));
        assertTrue(CudnnInt8Convolution.unsupported(
                        vgg, new Int8Quantizer(Granularity.PER_TENSOR, IntRounding.STOCHASTIC, 1L))
                .contains("stochastic"));
        ConvGeom skips = new ConvGeom(2, 9, 9, 1, 1, 2, 2, 0, 0, 5, 5);
        assertFalse(CudnnInt8Convolution.coversInput(skips));
        assertTrue(CudnnInt8Convolution.unsupported(skips, Int8Quantizer.QSYNC_DEFAULT)
                .contains("input pixels"));
        ConvGeom sameMode = new ConvGeom(2, 8, 8, 2, 2, 1, 1, 0, 0, 8, 8); // DL4J Same, k2: one more row below
        assertTrue(CudnnInt8Convolution.unsupported(sameMode, Int8Quantizer.QSYNC_DEFAULT)
                .contains("asymmetric"));
    }
}
