package io.qsync.lowprec.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

/** The opt-in timing hook reports every switchable layer's forward and backward inside computeGradient. */
class LayerTimingTest {

    private record Call(int index, Precision p, boolean backward, long nanos) {}

    private static void step(MultiLayerNetwork net) {
        net.setInput(SwitchableLayersTest.features());
        net.setLabels(SwitchableLayersTest.labels());
        net.computeGradientAndScore();
    }

    @Test
    void reportsEachSwitchableLayerOncePerDirectionAndStopsWhenCleared() {
        MultiLayerNetwork net = SwitchableLayers.convert(SwitchableLayersTest.builtInCnn());
        Map<String, Layer> ids = LayerIds.of(net);
        new PrecisionPlan(Map.of("conv_1", Precision.INT8, "dense_0", Precision.FP16)).applyTo(net);
        List<Call> calls = new CopyOnWriteArrayList<>();
        LayerTiming.install((i, p, b, n, cpu) -> calls.add(new Call(i, p, b, n)));
        try {
            assertTrue(LayerTiming.active());
            step(net);
        } finally {
            LayerTiming.clear();
        }
        assertFalse(LayerTiming.active());
        for (Map.Entry<String, Precision> e : Map.of(
                        "conv_0", Precision.FP32, "conv_1", Precision.INT8, "dense_0", Precision.FP16)
                .entrySet()) {
            int index = ids.get(e.getKey()).getIndex();
            for (boolean backward : new boolean[] {false, true}) {
                List<Call> c = calls.stream()
                        .filter(x -> x.index() == index && x.backward() == backward)
                        .toList();
                assertEquals(1, c.size(), e.getKey() + (backward ? " backward" : " forward") + ": " + calls);
                assertEquals(e.getValue(), c.get(0).p());
                assertTrue(c.get(0).nanos() > 0);
            }
        }
        assertEquals(6, calls.size(), "only switchable layers report: " + calls);
        int before = calls.size();
        step(net);
        assertEquals(before, calls.size());
    }
}
