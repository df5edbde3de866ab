package io.qsync.planner.replay;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import io.qsync.planner.indicator.IndicatorTable;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Synthetic graphs and indicators for planner tests. */
public final class TestGraphs {
    private TestGraphs() {}

    /**
     * A chain: conv layers (switchable) each followed by an activation (inferable), then a dense and an output layer.
     *
     * @param convs number of switchable conv layers
     * @return graph with {@code convs + 1} switchable layers
     */
    public static LayerGraph chain(int convs) {
        List<LayerNode> nodes = new ArrayList<>();
        String prev = null;
        long c = 3;
        for (int i = 0; i < convs; i++) {
            long out = 16L << Math.min(i / 2, 3);
            String id = "conv_" + i;
            nodes.add(node(
                    id,
                    "conv",
                    List.of(c, 32L, 32L),
                    List.of(out, 32L, 32L),
                    out * c * 9,
                    out * c * 9 + out,
                    prev,
                    "act_" + i,
                    true));
            nodes.add(node(
                    "act_" + i,
                    "activationlayer",
                    List.of(out, 32L, 32L),
                    List.of(out, 32L, 32L),
                    0,
                    0,
                    id,
                    i + 1 < convs ? "conv_" + (i + 1) : "dense_0",
                    false));
            prev = "act_" + i;
            c = out;
        }
        long flat = c * 32 * 32;
        nodes.add(node(
                "dense_0",
                "dense",
                List.of(flat),
                List.of(128L),
                flat * 128,
                flat * 128 + 128,
                prev,
                "output_0",
                true));
        nodes.add(node("output_0", "output", List.of(128L), List.of(10L), 1280, 1290, "dense_0", null, false));
        List<LayerNode> indexed = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            LayerNode n = nodes.get(i);
            indexed.add(new LayerNode(
                    n.id(),
                    n.type(),
                    i,
                    n.inputShape(),
                    n.outputShape(),
                    n.paramCount(),
                    n.weightCount(),
                    n.updaterStateSize(),
                    n.depth(),
                    n.predecessors(),
                    n.successors(),
                    n.switchable()));
        }
        return new LayerGraph("chain" + convs, indexed);
    }

    private static LayerNode node(
            String id,
            String type,
            List<Long> in,
            List<Long> out,
            long w,
            long params,
            String pred,
            String succ,
            boolean sw) {
        return new LayerNode(
                id,
                type,
                0,
                in,
                out,
                params,
                w,
                2 * params,
                0,
                pred == null ? List.of() : List.of(pred),
                succ == null ? List.of() : List.of(succ),
                sw);
    }

    /**
     * A random indicator: ω decreasing with precision level, FP32 = 0.
     *
     * @param g    graph
     * @param seed seed
     * @return table scoring INT8, FP8, BF16, FP16, TF32, FP32
     */
    public static IndicatorTable omega(LayerGraph g, long seed) {
        Random r = new Random(seed);
        Map<String, Map<Precision, Double>> m = new LinkedHashMap<>();
        for (String id : g.switchableIds()) {
            Map<Precision, Double> w = new EnumMap<>(Precision.class);
            double base = Math.exp(r.nextGaussian() * 2);
            w.put(Precision.FP8_E4M3, base * (8 + r.nextDouble()));
            w.put(Precision.INT8, base * (4 + r.nextDouble()));
            w.put(Precision.BF16, base * 0.2 * (1 + r.nextDouble()));
            w.put(Precision.FP16, base * 0.05 * (1 + r.nextDouble()));
            w.put(Precision.TF32, base * 0.01 * (1 + r.nextDouble()));
            w.put(Precision.FP32, 0.0);
            m.put(id, w);
        }
        return new IndicatorTable("test", m);
    }
}
