package io.qsync.profile;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Hutchinson estimates of each layer's loss-Hessian trace {@code tr(H_ll)}, {@code H = ∂²L/∂θ²} of the mean
 * minibatch loss L, restricted to the layer's weight block W.
 *
 * <p>For a Rademacher vector z over <em>all</em> parameters, {@code E[z_l · (H z)_l] = Σ_{i∈l} H_ii = tr(H_ll)},
 * so one Hessian-vector product per probe gives an unbiased estimate for every layer at once. Hz is the
 * central difference of gradients {@code (∇L(θ + εz) − ∇L(θ − εz)) / 2ε} (error O(ε²) for smooth losses;
 * ReLU kinks make it a finite-difference "smoothed" curvature). Probe s uses minibatch {@code s mod K}.
 * Parameters are restored bit-exactly afterwards. Layers must not use dropout (the gradient must be a
 * deterministic function of θ).
 */
final class HutchinsonTrace {
    private final int samples;
    private final double epsilon;
    private final long seed;

    /**
     * @param samples probe vectors (0 disables the estimate)
     * @param epsilon finite-difference step along each ±1 probe
     * @param seed    seed of the probe vectors
     */
    HutchinsonTrace(int samples, double epsilon, long seed) {
        if (samples < 0 || !(epsilon > 0)) {
            throw new IllegalArgumentException(
                    "Hutchinson needs samples >= 0 and epsilon > 0, got " + samples + ", " + epsilon);
        }
        this.samples = samples;
        this.epsilon = epsilon;
        this.seed = seed;
    }

    /** @return number of probe vectors */
    int samples() {
        return samples;
    }

    /**
     * @param probe   the network
     * @param ids     layers to estimate
     * @param batches minibatches (probe s uses batch s mod size)
     * @return id → mean of {@code z_l·(Hz)_l} over the probes (empty map if samples = 0)
     */
    Map<String, Double> estimate(NetworkProbe probe, List<String> ids, List<DataSet> batches) {
        Map<String, Double> out = new LinkedHashMap<>();
        if (samples == 0) {
            return out;
        }
        ids.forEach(id -> out.put(id, 0.0));
        INDArray params = probe.params();
        INDArray saved = params.dup();
        Random rnd = new Random(seed);
        try {
            for (int s = 0; s < samples; s++) {
                DataSet batch = batches.get(s % batches.size());
                double inv = 1.0 / batch.numExamples();
                float[] zz = new float[(int) params.length()];
                for (int i = 0; i < zz.length; i++) {
                    zz[i] = rnd.nextBoolean() ? 1f : -1f;
                }
                INDArray z = Nd4j.createFromArray(zz).castTo(params.dataType());
                params.assign(saved).addi(z.mul(epsilon));
                INDArray gPlus = gradient(probe, batch);
                params.assign(saved).subi(z.mul(epsilon));
                INDArray gMinus = gradient(probe, batch);
                INDArray hz = gPlus.subi(gMinus).muli(inv / (2 * epsilon));
                for (String id : ids) {
                    long[] r = probe.weightRange(id);
                    double dot = 0;
                    for (long i = r[0]; i < r[1]; i++) {
                        dot += zz[(int) i] * hz.getDouble(i);
                    }
                    out.merge(id, dot / samples, Double::sum);
                }
            }
        } finally {
            params.assign(saved);
        }
        return out;
    }

    private static INDArray gradient(NetworkProbe probe, DataSet batch) {
        probe.computeGradient(batch);
        return probe.gradientView()
                .reshape(probe.gradientView().length())
                .castTo(DataType.DOUBLE)
                .dup();
    }
}
