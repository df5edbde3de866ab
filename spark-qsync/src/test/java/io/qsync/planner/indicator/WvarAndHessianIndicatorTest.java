package io.qsync.planner.indicator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qsync.lowprec.Precision;
import io.qsync.planner.stats.LayerStatistics;
import io.qsync.planner.stats.WeightQuantization;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WvarAndHessianIndicatorTest {
    static LayerStatistics withWeights(int hessianSamples) {
        return new LayerStatistics(
                "l",
                1,
                0.01,
                0.002,
                1000,
                200,
                500,
                30,
                2,
                0.5,
                0.04,
                10.0,
                Map.of(
                        Precision.INT8,
                        new WeightQuantization(10.5, 0.02),
                        Precision.FP16,
                        new WeightQuantization(9.99, 1e-6),
                        Precision.FP32,
                        new WeightQuantization(10.0, 0.0)),
                -3.0,
                hessianSamples);
    }

    @Test
    void wvarIsLog2OfRelativeL1Change() {
        WvarIndicator w = new WvarIndicator();
        // |10.5 − 10| / 10 = 0.05 → log2(1.05)
        assertEquals(Math.log(1.05) / Math.log(2), w.omega(withWeights(0), Precision.INT8), 1e-15);
        // |9.99 − 10| / 10 = 0.001 → log2(1.001)
        assertEquals(Math.log(1.001) / Math.log(2), w.omega(withWeights(0), Precision.FP16), 1e-15);
        assertEquals(0.0, w.omega(withWeights(0), Precision.FP32));
        assertThrows(IllegalArgumentException.class, () -> w.omega(withWeights(0), Precision.BF16));
    }

    @Test
    void hessIsMeanDiagonalTimesSquaredError() {
        HessianIndicator h = new HessianIndicator();
        // |−3| / D_w(200) · 0.02
        assertEquals(3.0 / 200 * 0.02, h.omega(withWeights(4), Precision.INT8), 1e-15);
        assertEquals(0.0, h.omega(withWeights(4), Precision.FP32));
        assertThrows(IllegalArgumentException.class, () -> h.omega(withWeights(0), Precision.INT8));
    }
}
