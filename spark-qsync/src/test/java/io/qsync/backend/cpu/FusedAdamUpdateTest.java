package io.qsync.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.data.FashionMnist;
import io.qsync.models.DemoModels;
import io.qsync.runtime.LocalShard;
import io.qsync.runtime.ModelSpec;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.regularization.L2Regularization;

/**
 * The CPU engine's fused Adam update against DL4J's own updater: the same network, batches and global batch size (48,
 * not a power of two: the division by the batch must round as ND4J's), parameters, updater state and the update left
 * in the gradient bitwise equal after every step; batch-norm running statistics (NoOp, not averaged) included.
 */
class FusedAdamUpdateTest {
    private static LocalShard rows;

    @BeforeAll
    static void load() {
        rows = FashionMnist.load(FashionMnist.Split.TRAIN).head(6 * 48).toShard();
    }

    private static void sameAsDl4j(Model init, int steps) {
        ModelSpec spec = ModelSpec.of(init);
        CpuEngine fused = CpuEngine.of(spec.restore());
        CpuEngine dl4j = CpuEngine.withDl4jUpdater(spec.restore());
        assertTrue(fused.fusedUpdate(), "the network's updater is plain Adam: the update should run fused");
        assertFalse(dl4j.fusedUpdate());
        for (int s = 0; s < steps; s++) {
            var b = rows.hostBatch(null, s * 48, (s + 1) * 48, 10);
            fused.computeGradient(b);
            dl4j.computeGradient(b);
            assertArrayEquals(
                    dl4j.gradientView().toFloatVector(), fused.gradientView().toFloatVector());
            fused.applyUpdate(48, 0);
            dl4j.applyUpdate(48, 0);
            assertArrayEquals(dl4j.params().toFloatVector(), fused.params().toFloatVector(), "params, step " + s);
            assertArrayEquals(
                    dl4j.updaterState().toFloatVector(), fused.updaterState().toFloatVector(), "state, step " + s);
            assertArrayEquals(
                    dl4j.gradientView().toFloatVector(), fused.gradientView().toFloatVector());
        }
    }

    @Test
    void mlpUpdatesBitwiseAsDl4j() {
        MultiLayerNetwork m = new MultiLayerNetwork(DemoModels.mlp(3, 64, 1e-3));
        m.init();
        sameAsDl4j(m, 6);
    }

    @Test
    void batchNormResNetUpdatesBitwiseAsDl4j() {
        var g = new org.deeplearning4j.nn.graph.ComputationGraph(DemoModels.resnetCnn(3, 1e-3));
        g.init();
        sameAsDl4j(g, 3);
    }

    /** The demo MLP with another updater, or with L2 on its first layer's weights. */
    private static MultiLayerNetwork small(IUpdater u, double l2) {
        var conf = DemoModels.mlp(1, 8, 1e-3);
        for (int i = 0; i < conf.getConfs().size(); i++) {
            var layer = (org.deeplearning4j.nn.conf.layers.BaseLayer)
                    conf.getConf(i).getLayer();
            layer.setIUpdater(u);
            if (l2 > 0 && i == 0) {
                layer.setRegularization(List.of(new L2Regularization(l2)));
            }
        }
        MultiLayerNetwork m = new MultiLayerNetwork(conf);
        m.init();
        return m;
    }

    @Test
    void otherUpdatersAndRegularisationKeepDl4jsUpdate() {
        assertTrue(CpuEngine.of(small(new Adam(1e-3), 0)).fusedUpdate());
        assertFalse(CpuEngine.of(small(new Nesterovs(1e-3, 0.9), 0)).fusedUpdate(), "Nesterovs");
        assertFalse(CpuEngine.of(small(new Adam(1e-3), 1e-4)).fusedUpdate(), "L2");
    }
}
