package io.qsync.planner.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.cost.DeviceCatalog;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.replay.PredictorMemory;
import io.qsync.planner.replay.Replayer;
import io.qsync.planner.replay.WorkerSpec;
import io.qsync.profile.NetworkGraphs;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;

/**
 * The README's trade-off setting: a V100 training GPU pinned to FP32 with 256 examples per step and a T4 (INT8, FP16,
 * FP32) with 128, catalog estimates, the ResNet-style CNN. The T4's fastest plan keeps pace with the V100 but its
 * all-FP32 plan does not, so the allocator has to choose which layers stay quantized: the indicator decides the plan.
 */
class TradeOffSettingTest {
    private static final List<Precision> MENU = List.of(Precision.INT8, Precision.FP16, Precision.FP32);

    private static LayerGraph resnet() {
        ComputationGraph g = new ComputationGraph(DemoModels.resnetCnn(1, 1e-3));
        g.init();
        return NetworkGraphs.of(SwitchableLayers.convert(g), InputType.convolutionalFlat(28, 28, 1))
                .withName("resnet-cnn");
    }

    /** ω growing (or shrinking) with the layer's position: INT8 costs 4× FP16, FP32 0. */
    private static IndicatorTable ramp(LayerGraph g, boolean reversed) {
        Map<String, Map<Precision, Double>> m = new LinkedHashMap<>();
        List<String> ids = g.switchableIds();
        for (int i = 0; i < ids.size(); i++) {
            double w = 1 + (reversed ? ids.size() - 1 - i : i);
            Map<Precision, Double> row = new EnumMap<>(Precision.class);
            row.put(Precision.INT8, 4 * w);
            row.put(Precision.FP16, w);
            row.put(Precision.FP32, 0.0);
            m.put(ids.get(i), row);
        }
        return new IndicatorTable(reversed ? "reversed" : "ramp", m);
    }

    private static List<DeviceGroup> setting() {
        DeviceProfile v100 = DeviceCatalog.get("V100").withPrecisions(List.of(Precision.FP32));
        DeviceProfile t4 = DeviceCatalog.get("T4").withPrecisions(MENU);
        return List.of(new DeviceGroup("V100", v100, 1, 256), new DeviceGroup("T4", t4, 1, 128));
    }

    @Test
    void theInferenceDeviceMustQuantizeSomeLayersButNotAll() {
        LayerGraph g = resnet();
        Replayer r = new Replayer(g, new PredictorMemory());
        Allocation a = new GreedyAllocator(r, ramp(g, false)).allocate(setting());
        WorkerSpec t4 = a.worker("T4");
        Map<String, Precision> fp32 = new HashMap<>();
        g.switchableIds().forEach(id -> fp32.put(id, Precision.FP32));
        double allFp32 = r.model(t4).evaluate(fp32, null, 0).busy();
        double planned = r.model(t4).evaluate(t4.plan(), null, 0).busy();
        double v100 = r.model(a.worker("V100"))
                .evaluate(a.worker("V100").plan(), null, 0)
                .busy();
        assertTrue(
                planned <= v100 && v100 < allFp32,
                "T4 planned " + planned + " s, V100 " + v100 + " s, T4 all FP32 " + allFp32
                        + " s: the V100 must set the pace between the T4's plan and its all-FP32 plan");
        Set<Precision> used = EnumSet.copyOf(t4.plan().values());
        assertTrue(used.contains(Precision.FP32) && used.size() > 1, "mixed plan on the T4: " + t4.plan());
        assertTrue(a.accepted() > 0 && a.rejected() > 0, "some raises kept, some refused: " + a.decisions());
    }

    @Test
    void aDifferentIndicatorChangesThePlan() {
        LayerGraph g = resnet();
        Replayer r = new Replayer(g, new PredictorMemory());
        Allocation forward = new GreedyAllocator(r, ramp(g, false)).allocate(setting());
        Allocation reversed = new GreedyAllocator(r, ramp(g, true)).allocate(setting());
        Map<String, Precision> p1 = forward.worker("T4").plan();
        Map<String, Precision> p2 = reversed.worker("T4").plan();
        assertNotEquals(p1, p2, "the indicator must decide which layers are raised");
        assertEquals(forward.budgetSeconds(), reversed.budgetSeconds(), 1e-12, "same setting, same budget");
        assertTrue(forward.clusterSeconds() <= forward.budgetSeconds() * (1 + 1e-9)
                && reversed.clusterSeconds() <= reversed.budgetSeconds() * (1 + 1e-9));
        // each plan is the better one under its own indicator
        assertTrue(GreedyAllocator.objective(forward.workers(), ramp(g, false))
                <= GreedyAllocator.objective(reversed.workers(), ramp(g, false)));
        assertTrue(GreedyAllocator.objective(reversed.workers(), ramp(g, true))
                <= GreedyAllocator.objective(forward.workers(), ramp(g, true)));
    }
}
