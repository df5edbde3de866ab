package io.qsync.planner.replay;

import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import java.util.ArrayList;
import java.util.List;

/** Builds {@link PlanGraph}s from the predictor's {@link LayerGraph}. */
public final class PlanGraphs {
  private PlanGraphs() {}

  /**
   * @param name  model name for reports
   * @param graph the predictor's layer graph
   * @return the planner's view of it
   */
  public static PlanGraph of(String name, LayerGraph graph) {
    List<PlanNode> nodes = new ArrayList<>();
    for (LayerNode n : graph.nodes()) {
      nodes.add(new PlanNode(n.id(), n.type(), n.inputShape(), n.outputShape(), n.weightCount(), n.paramCount(),
          n.updaterStateSize(), n.depth(), n.predecessors(), n.successors(), n.switchable()));
    }
    return new PlanGraph(name, nodes);
  }
}
