package io.qsync.planner.replay;

import io.qsync.planner.cost.LayerSignature;
import java.util.List;

/**
 * One layer or vertex as the planner sees it (mirrors the predictor's {@code LayerNode}).
 *
 * @param id               stable layer id (plan key)
 * @param type             kind ({@code conv}, {@code dense}, {@code batchnorm}, {@code output}, a layer or vertex class
 *                         name in lower case)
 * @param inputShape       per-example input shape
 * @param outputShape      per-example output shape
 * @param weightCount      elements of the weight parameter
 * @param paramCount       all parameters
 * @param updaterStateSize updater state elements
 * @param depth            BFS depth
 * @param predecessors     ids feeding this node (network inputs not listed)
 * @param successors       ids fed by this node
 * @param switchable       true if its precision can change
 */
public record PlanNode(String id, String type, List<Long> inputShape, List<Long> outputShape, long weightCount,
                       long paramCount, long updaterStateSize, int depth, List<String> predecessors,
                       List<String> successors, boolean switchable) {
  /** Copies the lists. */
  public PlanNode {
    inputShape = List.copyOf(inputShape);
    outputShape = List.copyOf(outputShape);
    predecessors = List.copyOf(predecessors);
    successors = List.copyOf(successors);
  }

  /** @return the cost key of this layer */
  public LayerSignature signature() {
    return new LayerSignature(type, inputShape, outputShape, weightCount);
  }

  /** @return elements of one example's input */
  public long inputElements() {
    return signature().inputElements();
  }

  /** @return elements of one example's output */
  public long outputElements() {
    return signature().outputElements();
  }
}
