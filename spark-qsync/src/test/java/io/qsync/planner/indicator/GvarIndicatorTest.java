package io.qsync.planner.indicator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.models.DemoModels;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.stats.LayerStatistics;
import io.qsync.planner.stats.ModelStatistics;
import io.qsync.profile.NetworkGraphs;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

/**
 * Hand-computed case: S_v=0.01, S_w=0.002, D_v=1000, D_w=200, D_vv=500, ‖v‖=30, ‖w‖=2, ‖∇W‖=0.5, max|∇W|=0.04.
 * Exponent proxies: sqrt(30/1000)=0.1732=0.693·2^-2 → e_v=2; sqrt(2/200)=0.1=0.8·2^-3 → e_w=3;
 * 0.04=0.64·2^-4 → e_gv=4. k=9 → 2^-2k = 2^-18 = 1/262144.
 */
class GvarIndicatorTest {
    static final LayerStatistics S = LayerStatistics.of("l", 0.01, 0.002, 1000, 200, 500, 30, 2, 0.5, 0.04);
    static final double TWO_M18 = 1.0 / 262144;
    // fwd_8 = (‖w‖·S_v²·D_v + ‖v‖·S_w²·D_w)/6 = (2·1e-4·1000 + 30·4e-6·200)/6 = (0.2 + 0.024)/6
    static final double FWD8 = 0.224 / 6;
    // bwd_8 = (G·S_v²·D_v + ‖v‖·2^(2e_v)·2^-18·D_vv)/6 = (0.5·1e-4·1000 + 30·16·500/262144)/6
    static final double BWD8 = (0.05 + 240000.0 / 262144) / 6;
    // fwd_16 = 2^-18·(‖w‖·D_v·e_v + ‖v‖·D_w·e_w)/6 = 2^-18·(2·1000·2 + 30·200·3)/6
    static final double FWD16 = 22000.0 * TWO_M18 / 6;
    // bwd_16 = 2^-18·(G·D_v·e_v + ‖v‖·D_vv·e_gv)/6 = 2^-18·(0.5·1000·2 + 30·500·4)/6
    static final double BWD16 = 61000.0 * TWO_M18 / 6;

    private final GvarIndicator gvar = new GvarIndicator();

    @Test
    void exponentProxyFollowsFrexpOfFp16() {
        assertEquals(2, GvarIndicator.exponentProxy(Math.sqrt(0.03), 1, Precision.FP16));
        assertEquals(3, GvarIndicator.exponentProxy(0.1, 1, Precision.FP16));
        assertEquals(4, GvarIndicator.exponentProxy(0.04, 1, Precision.FP16));
        assertEquals(5, GvarIndicator.exponentProxy(1e-3, 1, Precision.FP16), "capped at FP16's 5 exponent bits");
        assertEquals(0, GvarIndicator.exponentProxy(1e-9, 1, Precision.FP16), "underflows to 0 in FP16");
        assertEquals(1, GvarIndicator.frexpExponent(1.0));
        assertEquals(0, GvarIndicator.frexpExponent(0.0));
    }

    @Test
    void int8AndFp16TermsMatchHandComputation() {
        assertEquals(FWD8, gvar.forward(S, Precision.INT8), 1e-15);
        assertEquals(BWD8, gvar.backward(S, Precision.INT8), 1e-15);
        assertEquals(FWD16, gvar.forward(S, Precision.FP16), 1e-18);
        assertEquals(BWD16, gvar.backward(S, Precision.FP16), 1e-18);
    }

    @Test
    void depthWeighting() {
        // ω = γ(L−d)·fwd + d·bwd, γ=4
        assertEquals(4 * 2 * FWD8 + 1 * BWD8, gvar.omega(S, 1, 3, Precision.INT8), 1e-14);
        assertEquals(4 * 3 * FWD8, gvar.omega(S, 0, 3, Precision.INT8), 1e-14, "first layer: forward only");
        assertEquals(3 * BWD8, gvar.omega(S, 3, 3, Precision.INT8), 1e-14, "last layer: backward only");
        assertEquals(237000.0 / 1572864, gvar.omega(S, 1, 3, Precision.FP16), 1e-15);
        assertEquals(2 * 2 * FWD16 + 1 * BWD16, new GvarIndicator(2, 9).omega(S, 1, 3, Precision.FP16), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> gvar.omega(S, 4, 3, Precision.INT8));
    }

    @Test
    void tf32NeverScoresWorseThanFp16() {
        // small activations: sqrt(‖v‖/D_v) = 2^-7 has frexp exponent −6: FP16's proxy caps at 5, TF32's (cap 8) would
        // be 6
        LayerStatistics small =
                LayerStatistics.of("s", 1e-4, 2e-4, 4096, 288, 4096, 4096.0 / 16384, 288.0 / 65536, 0.3, 1e-4);
        for (LayerStatistics s : List.of(S, small)) {
            for (int depth = 0; depth <= 3; depth++) {
                double tf32 = gvar.omega(s, depth, 3, Precision.TF32);
                double fp16 = gvar.omega(s, depth, 3, Precision.FP16);
                assertTrue(
                        tf32 <= fp16 && tf32 > 0,
                        s.layerId() + " depth " + depth + ": TF32 " + tf32 + " > FP16 " + fp16);
            }
        }
    }

    @Test
    void fp32IsZeroAndFormatsOrderByMantissa() {
        assertEquals(0.0, gvar.omega(S, 1, 3, Precision.FP32));
        assertEquals(0.0, gvar.forward(S, Precision.FP32));
        double tf32 = gvar.omega(S, 1, 3, Precision.TF32);
        double fp16 = gvar.omega(S, 1, 3, Precision.FP16);
        double bf16 = gvar.omega(S, 1, 3, Precision.BF16);
        double e4m3 = gvar.omega(S, 1, 3, Precision.FP8_E4M3);
        assertTrue(tf32 > 0 && fp16 >= tf32 && bf16 > fp16 && e4m3 > bf16, tf32 + " " + fp16 + " " + bf16 + " " + e4m3);
        // BF16: k = 9 + (7 − 10) = 6, cap 8: e_v=2, e_w=3, e_gv=4 → 2^-12·(4000+18000)/6 and 2^-12·(1000+60000)/6
        assertEquals(22000.0 / 4096 / 6, gvar.forward(S, Precision.BF16), 1e-15);
        assertEquals(61000.0 / 4096 / 6, gvar.backward(S, Precision.BF16), 1e-15);
    }

    @Test
    void computeUsesGraphDepths() {
        MultiLayerNetwork net = new MultiLayerNetwork(DemoModels.mlp(1, 8, 1e-3));
        net.init();
        LayerGraph g = NetworkGraphs.of(net);
        Map<String, LayerStatistics> m = new LinkedHashMap<>();
        for (String id : List.of("dense_0", "dense_1")) {
            m.put(id, LayerStatistics.of(id, 0.01, 0.002, 1000, 200, 500, 30, 2, 0.5, 0.04));
        }
        IndicatorTable t = gvar.compute(new ModelStatistics(1, 1, m), g, EnumSet.of(Precision.INT8, Precision.FP32));
        assertEquals(2, g.maxDepth());
        assertEquals(4 * 2 * FWD8, t.omega("dense_0", Precision.INT8), 1e-14);
        assertEquals(4 * 1 * FWD8 + BWD8, t.omega("dense_1", Precision.INT8), 1e-14);
        assertEquals(0.0, t.omega("dense_1", Precision.FP32));
        assertEquals(t, IndicatorTable.fromJson(t.toJson()));
        assertThrows(IllegalArgumentException.class, () -> t.omega("dense_1", Precision.FP16));
    }
}
