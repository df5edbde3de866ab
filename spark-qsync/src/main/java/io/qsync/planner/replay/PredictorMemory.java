package io.qsync.planner.replay;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import io.qsync.planner.memory.MemoryModel;
import io.qsync.planner.memory.MemoryPrediction;
import java.util.List;
import java.util.Map;

/**
 * The {@link MemoryEstimator} of the planner: a thin adapter that asks the predictor's {@link MemoryModel} (QSync
 * §5.6: FP32 weights, gradients and updater state, per-layer saved inputs at the layer's precision plus a
 * low-precision weight copy, the network output; the per-device context is the device profile's). The model is additive over layers, which the
 * memory-only MILP relies on.
 *
 * @param model the predictor's memory model
 */
public record PredictorMemory(MemoryModel model) implements MemoryEstimator {
    /**
     * DEVICE accounting without a context term: the context belongs to the device ({@code DeviceProfile.contextBytes},
     * measured with the profile or {@code DeviceProfile.DEFAULT_CONTEXT_BYTES}), and plans are checked against
     * {@code DeviceProfile.modelBudgetBytes()}.
     */
    public PredictorMemory() {
        this(new MemoryModel(0, MemoryModel.Accounting.DEVICE));
    }

    /**
     * @param g     graph
     * @param plan  switchable id → precision
     * @param batch examples per worker
     * @return the predictor's full prediction
     */
    public MemoryPrediction predict(LayerGraph g, Map<String, Precision> plan, int batch) {
        return model.predictBytes(g, plan, batch);
    }

    @Override
    public long peakBytes(LayerGraph g, Map<String, Precision> plan, int batch) {
        return predict(g, plan, batch).totalBytes();
    }

    @Override
    public long baseBytes(LayerGraph g, int batch) {
        MemoryPrediction p = predict(g, Map.of(), batch);
        return p.paramBytes() + p.gradientBytes() + p.updaterBytes() + p.contextBytes();
    }

    @Override
    public long layerBytes(LayerNode n, Precision p, int batch) {
        LayerGraph g = new LayerGraph(
                "node",
                List.of(new LayerNode(
                        n.id(),
                        n.type(),
                        0,
                        n.inputShape(),
                        n.outputShape(),
                        n.paramCount(),
                        n.weightCount(),
                        n.updaterStateSize(),
                        0,
                        List.of(),
                        List.of(),
                        n.switchable())));
        Map<String, Precision> plan = n.switchable() ? Map.of(n.id(), p) : Map.of();
        // a one-node graph counts the node's output as the network output: remove it unless n is a sink
        long act = model.predictBytes(g, plan, batch).layers().get(0).activationBytes();
        return n.successors().isEmpty() ? act : act - 4L * batch * n.outputElements();
    }
}
