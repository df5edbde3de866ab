package io.qsync.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.lowprec.train.HostOps;
import io.qsync.models.DemoModels;
import io.qsync.runtime.LayerClock;
import io.qsync.runtime.ProfilingSupport;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

/**
 * The program engine's profiling hooks (what {@code profile-device --backend cuda} drives), on the host ops: the
 * switchable layers, a plan applied by recompiling, and a per-layer clock keyed by layer index, precision and direction.
 */
class ProgramEngineProfilingTest {

    @Test
    void switchesPrecisionsAndTimesEveryLayer() {
        MultiLayerNetwork net =
                SwitchableLayers.convert((MultiLayerNetwork) EngineParity.init(DemoModels.fashionCnn(3, 1e-3)));
        try (ProgramEngine e = ProgramEngine.open(net, new HostOps(), "host", 16)) {
            ProfilingSupport p = e.profiling().orElseThrow();
            Map<String, Integer> layers = p.switchableLayers();
            assertEquals(java.util.List.of("conv_0", "conv_1", "dense_0"), java.util.List.copyOf(layers.keySet()));
            double fp32Loss = e.computeGradient(EngineParity.batch(0, 16));
            p.applyPlan(new PrecisionPlan(Map.of("conv_0", Precision.INT8, "dense_0", Precision.FP16)));
            try (LayerClock clock = p.startLayerClock(1)) {
                for (int i = 0; i < 3; i++) {
                    e.computeGradient(EngineParity.batch(0, 16));
                }
                int conv0 = layers.get("conv_0");
                int dense0 = layers.get("dense_0");
                int conv1 = layers.get("conv_1");
                assertEquals(3, clock.count(conv0, Precision.INT8, false));
                assertEquals(3, clock.count(conv0, Precision.INT8, true));
                assertEquals(3, clock.count(dense0, Precision.FP16, true));
                assertEquals(3, clock.count(conv1, Precision.FP32, false));
                assertEquals(0, clock.count(conv0, Precision.FP32, false), "conv_0 no longer runs FP32");
                assertTrue(clock.medianSeconds(conv0, Precision.INT8, false) > 0);
                assertTrue(Double.isNaN(clock.medianSeconds(conv0, Precision.BF16, false)));
            }
            // the plan changed the numerics (INT8 forward), and training still runs after the clock is closed
            double planned = e.computeGradient(EngineParity.batch(0, 16));
            assertTrue(Double.isFinite(planned) && planned != fp32Loss, planned + " vs " + fp32Loss);
        }
    }
}
