package io.qsync.planner.replay;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import io.qsync.planner.memory.MemoryModel;
import io.qsync.planner.memory.MemoryPrediction;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
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
  private static final Map<PlanGraph, LayerGraph> GRAPHS = Collections.synchronizedMap(new IdentityHashMap<>());

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
  public MemoryPrediction predict(PlanGraph g, Map<String, Precision> plan, int batch) {
    return model.predictBytes(layerGraph(g), plan, batch);
  }

  @Override
  public long peakBytes(PlanGraph g, Map<String, Precision> plan, int batch) {
    return predict(g, plan, batch).totalBytes();
  }

  @Override
  public long baseBytes(PlanGraph g, int batch) {
    MemoryPrediction p = predict(g, Map.of(), batch);
    return p.paramBytes() + p.gradientBytes() + p.updaterBytes() + p.contextBytes();
  }

  @Override
  public long layerBytes(PlanNode n, Precision p, int batch) {
    PlanGraph g = new PlanGraph("node", List.of(new PlanNode(n.id(), n.type(), n.inputShape(), n.outputShape(),
        n.weightCount(), n.paramCount(), n.updaterStateSize(), 0, List.of(), List.of(), n.switchable())));
    Map<String, Precision> plan = n.switchable() ? Map.of(n.id(), p) : Map.of();
    // a one-node graph counts the node's output as the network output: remove it unless n is a sink
    long act = model.predictBytes(toLayerGraph(g), plan, batch).layers().get(0).activationBytes();
    return n.successors().isEmpty() ? act : act - 4L * batch * n.outputElements();
  }

  /**
   * @param g a plan graph
   * @return the predictor's layer graph with the same nodes
   */
  public static LayerGraph layerGraph(PlanGraph g) {
    return GRAPHS.computeIfAbsent(g, PredictorMemory::toLayerGraph);
  }

  private static LayerGraph toLayerGraph(PlanGraph g) {
    List<LayerNode> nodes = new ArrayList<>();
    int depth = 0;
    for (int i = 0; i < g.nodes().size(); i++) {
      PlanNode n = g.nodes().get(i);
      nodes.add(new LayerNode(n.id(), n.type(), i, n.inputShape(), n.outputShape(), n.paramCount(), n.weightCount(),
          n.updaterStateSize(), n.depth(), n.predecessors(), n.successors(), n.switchable()));
      depth = Math.max(depth, n.depth());
    }
    return new LayerGraph(nodes, List.of("input"), depth);
  }
}
