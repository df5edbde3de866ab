package io.qsync.planner.replay;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import java.util.Map;

/**
 * Peak memory of one worker, additive over layers so that the memory-only MILP can use it:
 * {@code peak = baseBytes + Σ layerBytes(layer, its precision)}. The planner uses {@link PredictorMemory}, an adapter
 * of the predictor's {@code io.qsync.planner.memory.MemoryModel}.
 */
public interface MemoryEstimator {
    /**
     * @param g     graph
     * @param batch examples per worker
     * @return bytes that do not depend on the plan (weights, gradients, updater state, workspace)
     */
    long baseBytes(LayerGraph g, int batch);

    /**
     * @param n     node
     * @param p     its precision (FP32 for non-switchable nodes)
     * @param batch examples per worker
     * @return bytes this node adds at the peak (tensors saved for backward, low-precision weight copy)
     */
    long layerBytes(LayerNode n, Precision p, int batch);

    /**
     * @param g     graph
     * @param plan  switchable layer id → precision
     * @param batch examples per worker
     * @return predicted peak bytes
     */
    default long peakBytes(LayerGraph g, Map<String, Precision> plan, int batch) {
        long total = baseBytes(g, batch);
        for (LayerNode n : g.nodes()) {
            total += layerBytes(n, n.switchable() ? plan.getOrDefault(n.id(), Precision.FP32) : Precision.FP32, batch);
        }
        return total;
    }
}
