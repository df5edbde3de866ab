package io.qsync.lowprec.cuda;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.train.ConvGeom;
import org.junit.jupiter.api.Test;

/**
 * Which convolution geometries cuDNN's symmetric padding expresses exactly (checked without a GPU: no native code
 * runs). DL4J's Same mode pads {@code (oh-1)*s + k - h} in total, the top/left half rounded down; when the total is odd
 * the bottom/right edge gets one more, which cuDNN cannot express, so that layer stays on im2col + GEMM.
 */
class CudnnGeometryTest {

    /** DL4J's Same-mode geometry (as the program compiler computes it). */
    private static ConvGeom same(int c, int h, int k, int s) {
        int o = (h + s - 1) / s;
        int pad = Math.max(0, ((o - 1) * s + k - h) / 2);
        return new ConvGeom(c, h, h, k, k, s, s, pad, pad, o, o);
    }

    @Test
    void symmetricPaddingIsAcceptedAndAsymmetricRefused() {
        assertNull(CudnnConvolution.unsupported(new ConvGeom(64, 28, 28, 3, 3, 1, 1, 1, 1, 28, 28)), "VGG 3x3 pad 1");
        assertNull(CudnnConvolution.unsupported(new ConvGeom(3, 9, 9, 3, 3, 2, 2, 0, 0, 4, 4)), "truncate, stride 2");
        assertNull(CudnnConvolution.unsupported(same(8, 28, 3, 1)), "Same 3x3 stride 1: pad 1 on both sides");
        assertNull(CudnnConvolution.unsupported(same(8, 28, 1, 2)), "Same 1x1 stride 2: no padding");
        assertNull(CudnnConvolution.unsupported(same(8, 7, 3, 2)), "Same 3x3 stride 2 on odd size: pad 1 on both");
        String why = CudnnConvolution.unsupported(same(8, 28, 3, 2)); // total padding 1: bottom/right only
        assertNotNull(why, "Same 3x3 stride 2 on even size pads the bottom/right edge only");
        assertTrue(why.contains("asymmetric"), why);
        assertNotNull(CudnnConvolution.unsupported(same(4, 8, 2, 1)), "Same 2x2 stride 1: one more row below");
    }
}
