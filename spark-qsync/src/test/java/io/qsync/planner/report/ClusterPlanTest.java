package io.qsync.planner.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qsync.lowprec.Precision;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterPlanTest {
    @Test
    void jsonRoundTripKeepsEveryField() {
        Map<String, DevicePlan> d = new LinkedHashMap<>();
        d.put(
                "V100",
                new DevicePlan("V100", true, 2, 96, 0.6, Map.of("conv_0", Precision.FP32, "dense_0", Precision.FP16)));
        d.put(
                "T4",
                new DevicePlan(
                        "T4", false, 1, 128, 0.4, Map.of("conv_0", Precision.INT8, "dense_0", Precision.FP8_E4M3)));
        ClusterPlan p = new ClusterPlan("resnet-cnn", d, 12.5, 13.25, 0.0125, "LEAVE_OUT:T4", "T4 is slow");
        ClusterPlan back = ClusterPlan.fromJson(p.toJson());
        assertEquals(p, back);
        assertEquals(p.toJson(), back.toJson());
        assertEquals(Map.of("conv_0", Precision.INT8, "dense_0", Precision.FP8_E4M3), back.layerPrecisions("T4"));
        assertThrows(IllegalArgumentException.class, () -> back.layerPrecisions("A100"));
        assertThrows(IllegalArgumentException.class, () -> ClusterPlan.fromJson("{\"model\": 3, \"devices\": []}"));
    }
}
