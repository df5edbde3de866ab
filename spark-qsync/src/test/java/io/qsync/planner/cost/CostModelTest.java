package io.qsync.planner.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CostModelTest {
    private static final LayerSignature DENSE = new LayerSignature("dense", List.of(1000L), List.of(500L), 500_000);
    private static final LayerSignature CONV =
            new LayerSignature("conv", List.of(3L, 8L, 8L), List.of(4L, 8L, 8L), 4 * 3 * 9);

    @Test
    void flopsOfDenseAndConv() {
        assertEquals(2.0 * 500_000 * 10, DENSE.forwardFlops(10));
        assertEquals(2.0 * 108 * 64 * 2, CONV.forwardFlops(2));
    }

    @Test
    void rooflineIsComputeOrMemoryBound() {
        Roofline r = new Roofline(Map.of(Precision.FP32, 1e12), 0.5, 1e11, 1e-6);
        assertEquals(1e-6 + 2.0, r.seconds(1e12, 1, Precision.FP32, "x"), 1e-12);
        assertEquals(1e-6 + 10.0, r.seconds(1, 1e12, Precision.FP32, "x"), 1e-12);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> r.seconds(1, 1, Precision.INT8, "dev"));
        assertTrue(e.getMessage().contains("dev") && e.getMessage().contains("INT8"));
    }

    @Test
    void catalogRooflineBackwardIsTwiceForwardPlusOverhead() {
        CostModel t4 = new CostModel(DeviceCatalog.get("T4"));
        double f = t4.layerSeconds(DENSE, 256, Precision.FP16, false);
        double b = t4.layerSeconds(DENSE, 256, Precision.FP16, true);
        assertEquals(2 * (f - 8e-6), b - 8e-6, 1e-12);
        // compute bound at 65 TF * 0.6
        assertEquals(8e-6 + 2.0 * 500_000 * 256 / (65e12 * 0.6), f, 1e-9);
        assertTrue(t4.layerSeconds(DENSE, 256, Precision.INT8, false) < f);
    }

    @Test
    void int8AndFp8BackwardIsPricedAtFp16TheirRealBackwardPrecision() {
        CostModel t4 = new CostModel(DeviceCatalog.get("T4"));
        double fp16Bwd = t4.layerSeconds(DENSE, 256, Precision.FP16, true);
        assertEquals(fp16Bwd, t4.layerSeconds(DENSE, 256, Precision.INT8, true), 1e-15);
        assertTrue(
                t4.layerSeconds(DENSE, 256, Precision.INT8, false) < t4.layerSeconds(DENSE, 256, Precision.FP16, false),
                "INT8 keeps its faster forward");
        CostModel h100 = new CostModel(DeviceCatalog.get("H100"));
        assertEquals(
                h100.layerSeconds(DENSE, 256, Precision.FP16, true),
                h100.layerSeconds(DENSE, 256, Precision.FP8_E4M3, true),
                1e-15);
        assertEquals(Precision.TF32, CostModel.backwardPrecision(Precision.TF32));
    }

    @Test
    void measuredExactThenLinearInBatchThenProportional() {
        List<LayerMeasurement> ms = List.of(
                new LayerMeasurement(DENSE, 10, Precision.FP32, 1.0, 2.0),
                new LayerMeasurement(DENSE, 20, Precision.FP32, 1.5, 3.0),
                new LayerMeasurement(CONV, 10, Precision.FP32, 0.4, 0.8));
        DeviceProfile p = new DeviceProfile(
                "cpu",
                false,
                "test",
                1L << 30,
                List.of(Precision.FP32),
                CastPolicy.IN_LAYER,
                new Roofline(Map.of(Precision.FP32, 1e9), 1, 1e9, 0),
                ms,
                Map.of(),
                null,
                Map.of(),
                new Interconnect("lo", 1e9, 1e-5));
        CostModel c = new CostModel(p);
        assertEquals(1.0, c.layerSeconds(DENSE, 10, Precision.FP32, false), 1e-12);
        assertEquals(2.0, c.layerSeconds(DENSE, 30, Precision.FP32, false), 1e-12);
        assertEquals(4.0, c.layerSeconds(DENSE, 30, Precision.FP32, true), 1e-12);
        assertEquals(0.8, c.layerSeconds(CONV, 20, Precision.FP32, false), 1e-12);
    }

    @Test
    void castsFittedOrMemoryBound() {
        LinearCost fit = LinearCost.fit(new double[] {1, 2, 3}, new double[] {3, 5, 7});
        assertEquals(2, fit.alpha(), 1e-12);
        assertEquals(1, fit.beta(), 1e-12);
        CostModel t4 = new CostModel(DeviceCatalog.get("T4"));
        assertEquals(0, t4.castSeconds(Precision.FP16, Precision.FP16, 1e6));
        assertEquals(8e-6 + 1e6 * 6 / 320e9, t4.castSeconds(Precision.FP32, Precision.FP16, 1e6), 1e-12);
        assertEquals(8e-6 + 1e6 * 9 / 320e9, t4.castSeconds(Precision.FP32, Precision.INT8, 1e6), 1e-12);
    }

    @Test
    void ringAllReduce() {
        Interconnect l = new Interconnect("x", 1e9, 1e-5);
        assertEquals(0, l.ringAllReduceSeconds(1e9, 1));
        assertEquals(2 * (1e-5 + 0.5), l.ringAllReduceSeconds(1e9, 2), 1e-12);
        assertEquals(6 * (1e-5 + 0.25), l.ringAllReduceSeconds(1e9, 4), 1e-12);
    }

    @Test
    void profileJsonRoundTripAndCatalog() {
        for (String n : DeviceCatalog.names()) {
            DeviceProfile p = DeviceCatalog.get(n);
            assertTrue(p.estimate());
            assertEquals(p, DeviceProfile.fromJson(p.toJson()));
        }
        DeviceProfile withMeasure = new DeviceProfile(
                "cpu",
                false,
                "test",
                1L << 30,
                List.of(Precision.FP32, Precision.INT8),
                CastPolicy.IN_LAYER,
                new Roofline(Map.of(Precision.FP32, 1e9), 1, 1e9, 0),
                List.of(new LayerMeasurement(CONV, 4, Precision.INT8, 1, 2)),
                Map.of(DeviceProfile.castKey(Precision.FP32, Precision.INT8), new LinearCost(1e-9, 1e-6)),
                new LinearCost(1e-9, 0),
                Map.of("abc|4", 1e-3),
                new Interconnect("lo", 1e9, 1e-5));
        assertEquals(withMeasure, DeviceProfile.fromJson(withMeasure.toJson()));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceCatalog.get("K80"))
                .getMessage()
                .contains("T4"));
        assertTrue(!DeviceCatalog.get("V100").precisions().contains(Precision.INT8));
    }
}
