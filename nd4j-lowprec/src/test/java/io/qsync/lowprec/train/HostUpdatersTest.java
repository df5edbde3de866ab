package io.qsync.lowprec.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The host Adam step (and so the CUDA kernel, which computes the same rounded operations) gives ND4J's native
 * updater's bits over many iterations: a CPU and a GPU replica that apply one all-reduced gradient must stay
 * identical, and {@code 1 - beta1^t} stops being exact in float after a few iterations.
 */
class HostUpdatersTest {
    @Test
    void hostAdamGivesNd4jsBitsForFortyIterations() {
        int n = 4096;
        Random r = new Random(7);
        float[] g0 = new float[n];
        Adam conf = new Adam(1e-3);
        INDArray view = Nd4j.zeros(1, 2L * n);
        org.nd4j.linalg.learning.GradientUpdater<?> nd4j = conf.instantiate(view, true);
        HostOps ops = new HostOps();
        Tensor state = ops.allocate("state", 2L * n);
        for (int it = 0; it < 40; it++) {
            fill(g0, r);
            INDArray g = Nd4j.createFromArray(g0.clone()).reshape(1, n);
            nd4j.applyUpdater(g, it, 0);
            Tensor ours = TensorArrays.put(ops, g0.clone());
            ops.adam(
                    ours,
                    ops.slice(state, 0, n),
                    ops.slice(state, n, n),
                    1e-3,
                    conf.getBeta1(),
                    conf.getBeta2(),
                    conf.getEpsilon(),
                    it);
            float[] want = g.toFloatVector();
            float[] got = TensorArrays.get(ops, ours);
            int first = -1;
            for (int i = 0; i < n && first < 0; i++) {
                first = Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i]) ? i : -1;
            }
            assertEquals(-1, first, "iteration " + it + ": first differing element");
            assertArrayEquals(want, got, "iteration " + it);
        }
    }

    @Test
    void hostNesterovsGivesNd4jsBits() {
        int n = 4096;
        Random r = new Random(11);
        org.nd4j.linalg.learning.config.Nesterovs conf = new org.nd4j.linalg.learning.config.Nesterovs(0.01, 0.9);
        org.nd4j.linalg.learning.GradientUpdater<?> nd4j = conf.instantiate(Nd4j.zeros(1, n), true);
        HostOps ops = new HostOps();
        Tensor v = ops.allocate("v", n);
        float[] g0 = new float[n];
        for (int it = 0; it < 20; it++) {
            fill(g0, r);
            INDArray g = Nd4j.createFromArray(g0.clone()).reshape(1, n);
            nd4j.applyUpdater(g, it, 0);
            Tensor ours = TensorArrays.put(ops, g0.clone());
            ops.nesterovs(ours, v, 0.01, 0.9);
            assertArrayEquals(g.toFloatVector(), TensorArrays.get(ops, ours), "iteration " + it);
        }
    }

    /** Gradients spread over six decades, as a network's are. */
    private static void fill(float[] g, Random r) {
        for (int i = 0; i < g.length; i++) {
            g[i] = (float) (r.nextGaussian() * Math.pow(10, -1 - r.nextInt(6)));
        }
    }
}
