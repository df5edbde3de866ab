package io.qsync.planner.indicator;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.stats.LayerStatistics;
import io.qsync.planner.stats.ModelStatistics;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToDoubleBiFunction;

/**
 * A per-layer, per-precision sensitivity indicator ω(layer, precision): larger means running the layer in that
 * precision hurts the model more; ω(l, FP32) = 0.
 */
public interface Indicator {
    /** @return short name ({@code gvar}, {@code wvar}, {@code hess}) */
    String name();

    /**
     * @param stats statistics of the switchable layers
     * @param graph the network's layer graph (depths)
     * @param menu  precisions to score
     * @return ω for every profiled switchable layer and every precision of the menu
     */
    IndicatorTable compute(ModelStatistics stats, LayerGraph graph, Collection<Precision> menu);

    /**
     * A table of {@code omega(layer statistics, precision)} for every profiled layer and every precision of the menu,
     * for indicators that score each layer on its own statistics (no depth weighting).
     *
     * @throws IllegalArgumentException if a profiled layer is not in {@code graph}
     */
    static IndicatorTable perLayer(
            String name,
            ModelStatistics stats,
            LayerGraph graph,
            Collection<Precision> menu,
            ToDoubleBiFunction<LayerStatistics, Precision> omega) {
        Map<String, Map<Precision, Double>> out = new LinkedHashMap<>();
        for (LayerStatistics s : stats.layers().values()) {
            graph.node(s.layerId());
            Map<Precision, Double> row = new EnumMap<>(Precision.class);
            for (Precision p : menu) {
                row.put(p, omega.applyAsDouble(s, p));
            }
            out.put(s.layerId(), row);
        }
        return new IndicatorTable(name, out);
    }
}
