package io.qsync.lowprec.train;

import static io.qsync.lowprec.train.TensorArrays.get;
import static io.qsync.lowprec.train.TensorArrays.put;
import static io.qsync.lowprec.train.TensorArrays.rel;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The host reference offers no direct convolution (the program engine's convolutions there are {@link
 * Im2colConvolution}), and im2col + GEMM equals the convolution's definition: forward, backward data and backward
 * filter against plain loops over DL4J's cross-correlation (NCHW, weights {@code [nOut, c, kh, kw]}, zero padding).
 */
class Im2colConvolutionTest {

    private static float[] rnd(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextFloat() * 2 - 1;
        }
        return a;
    }

    /** y[b,o,oy,ox] = sum x[b,c,iy,ix] w[o,c,ky,kx]; the adjoints accumulate dy into dx and dw. */
    private static void loops(ConvGeom g, int n, int nOut, float[] x, float[] w, float[] dy, float[][] out) {
        float[] y = out[0], dx = out[1], dw = out[2];
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < nOut; o++) {
                for (int oy = 0; oy < g.oh(); oy++) {
                    for (int ox = 0; ox < g.ow(); ox++) {
                        int yi = ((b * nOut + o) * g.oh() + oy) * g.ow() + ox;
                        for (int c = 0; c < g.c(); c++) {
                            for (int ky = 0; ky < g.kh(); ky++) {
                                for (int kx = 0; kx < g.kw(); kx++) {
                                    int iy = oy * g.sh() - g.padTop() + ky;
                                    int ix = ox * g.sw() - g.padLeft() + kx;
                                    if (iy < 0 || iy >= g.h() || ix < 0 || ix >= g.w()) {
                                        continue;
                                    }
                                    int xi = ((b * g.c() + c) * g.h() + iy) * g.w() + ix;
                                    int wi = ((o * g.c() + c) * g.kh() + ky) * g.kw() + kx;
                                    y[yi] += x[xi] * w[wi];
                                    dx[xi] += dy[yi] * w[wi];
                                    dw[wi] += dy[yi] * x[xi];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void hostOpsOfferNoDirectConvolution() {
        try (HostOps ops = new HostOps()) {
            assertNull(ops.directConvolution(new ConvGeom(2, 5, 5, 3, 3, 1, 1, 1, 1, 5, 5), 2, 3, Precision.FP32));
            assertTrue(ops.directConvolutionState().startsWith("none"), ops.directConvolutionState());
        }
    }

    @Test
    void im2colConvolutionMatchesTheDefinition() {
        Random r = new Random(5);
        for (ConvGeom g : new ConvGeom[] {
            new ConvGeom(3, 7, 7, 3, 3, 1, 1, 1, 1, 7, 7),
            new ConvGeom(2, 9, 8, 3, 3, 2, 2, 1, 1, 5, 4),
            new ConvGeom(4, 6, 6, 5, 5, 1, 1, 2, 2, 6, 6),
            new ConvGeom(2, 8, 10, 2, 4, 2, 1, 0, 1, 4, 9)
        }) {
            int n = 3, nOut = 4;
            float[] x = rnd(r, n * g.c() * g.inPlane());
            float[] w = rnd(r, nOut * g.patch());
            float[] dy = rnd(r, n * nOut * g.outPlane());
            float[][] want = {new float[dy.length], new float[x.length], new float[w.length]};
            loops(g, n, nOut, x, w, dy, want);
            try (HostOps ops = new HostOps()) {
                Map<String, Tensor> kept = new HashMap<>();
                Convolution conv = new Im2colConvolution(
                        ops, g, n, nOut, (k, len) -> kept.computeIfAbsent(k + len, q -> ops.allocate(k, len)));
                assertThrows(IllegalStateException.class, () -> conv.backward(put(ops, dy), null, put(ops, w)));
                Tensor y = ops.allocate("y", dy.length);
                Tensor dx = ops.allocate("dx", x.length);
                Tensor dw = ops.allocate("dw", w.length);
                conv.forward(put(ops, x), put(ops, w), y);
                conv.backward(put(ops, dy), dx, dw);
                String at = g + ": ";
                assertTrue(rel(want[0], get(ops, y)) <= 1e-6, at + "forward " + rel(want[0], get(ops, y)));
                assertTrue(rel(want[1], get(ops, dx)) <= 1e-6, at + "backward data " + rel(want[1], get(ops, dx)));
                assertTrue(rel(want[2], get(ops, dw)) <= 1e-6, at + "backward filter " + rel(want[2], get(ops, dw)));
            }
        }
    }
}
