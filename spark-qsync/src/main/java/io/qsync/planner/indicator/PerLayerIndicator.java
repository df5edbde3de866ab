package io.qsync.planner.indicator;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.stats.LayerStatistics;
import io.qsync.planner.stats.ModelStatistics;
import java.util.Collection;

/**
 * An {@link Indicator} that scores each layer on its own statistics (no depth weighting): the table is
 * {@link #omega} of every profiled layer and every precision of the menu.
 */
public interface PerLayerIndicator extends Indicator {
    /**
     * @param s layer statistics
     * @param p precision
     * @return ω of the layer at {@code p} (0 for FP32)
     */
    double omega(LayerStatistics s, Precision p);

    @Override
    default IndicatorTable compute(ModelStatistics stats, LayerGraph graph, Collection<Precision> menu) {
        return Indicator.perLayer(name(), stats, graph, menu, this::omega);
    }
}
