package io.qsync.planner.memory;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Working memory of a DL4J 1.0.0-M2.1 {@code MultiLayerNetwork} training iteration (workspace mode ENABLED), derived
 * from DL4J's and this repository's code, per example in FP32 elements unless noted ({@code in}/{@code out}: the
 * layer's input/output elements, {@code col = outH·outW·kH·kW·Cin}: its im2col row block, {@code W}: its weights):
 * <ul>
 *   <li>{@code WS_ALL_LAYERS_ACT} (over-allocation 5 %): Σ out over all layers.</li>
 *   <li>{@code WS_LAYER_ACT_1}/{@code _2} (2 % each): activation gradients of even/odd layer indices, Σ over the two of
 *       max in.</li>
 *   <li>{@code WS_LAYER_WORKING_MEM} (2 %): max over layers of their backward op's working memory:
 *       FP32 conv (DL4J, no helper): 3·col + 3·out (im2col, its duplicate kept for backprop, epsNext2d; recomputed
 *       pre-activation, activation gradient, permuted delta); emulated conv: 2·col + 4·out (dx columns, im2col of
 *       the saved input; pre-activation, activation gradient, permuted delta, rounded gradient) plus, for INT8,
 *       in + W (FP16-dequantized input and weights); FP32 dense: 2·out; emulated dense: 3·out, plus in + W for INT8;
 *       output layer: 3·out; other layers: in.</li>
 *   <li>Outside workspaces: an emulated layer at p ≠ FP32 keeps FP32 codes of its input and weights and a copy of its
 *       pre-activation: in + W + out ({@link MemoryModel.Accounting#DEVICE}: input and weights at p's storage size).</li>
 *   <li>The mini-batch: features (first layer's in) and labels (last layer's out).</li>
 * </ul>
 * Not covered: memory that native libraries (OpenBLAS, oneDNN) allocate inside ops, and short-lived garbage
 * allocated outside workspaces (quantization temporaries).
 */
final class WorkspaceLayout {
  /** DL4J's {@code WS_ALL_LAYERS_ACT_CONFIG} over-allocation limit. */
  static final double ACT_OVERALLOCATION = 1.05;
  /** DL4J's over-allocation limit of the layer working-memory and activation-gradient workspaces. */
  static final double LAYER_OVERALLOCATION = 1.02;
  private static final long FP32 = 4;

  private WorkspaceLayout() {}

  static WorkingMemory of(LayerGraph graph, Map<String, Precision> plan, int batch, MemoryModel.Accounting acc) {
    List<LayerNode> nodes = graph.nodes();
    long act = 0;
    long[] eps = new long[2];
    long largest = -1;
    String largestId = null;
    long held = 0;
    Map<String, Long> per = new LinkedHashMap<>();
    for (LayerNode n : nodes) {
      Precision p = plan.getOrDefault(n.id(), Precision.FP32);
      act += batch * n.outputElementsPerExample() * FP32;
      int parity = n.index() % 2;
      eps[parity] = Math.max(eps[parity], batch * n.inputElementsPerExample() * FP32);
      long w = workingBytes(n, p, batch);
      per.put(n.id(), w);
      if (w > largest) {
        largest = w;
        largestId = n.id();
      }
      if (n.switchable() && p != Precision.FP32) {
        long in = batch * n.inputElementsPerExample();
        held += acc == MemoryModel.Accounting.DEVICE ? p.bytesFor(in) + p.bytesFor(n.weightCount())
            : (in + n.weightCount() + batch * n.outputElementsPerExample()) * FP32;
      }
    }
    long input = batch * (nodes.get(0).inputElementsPerExample() + nodes.get(nodes.size() - 1)
        .outputElementsPerExample()) * FP32;
    return new WorkingMemory(batch, Math.round(act * ACT_OVERALLOCATION),
        Math.round(eps[0] * LAYER_OVERALLOCATION) + Math.round(eps[1] * LAYER_OVERALLOCATION),
        Math.round(largest * LAYER_OVERALLOCATION), largestId, held, input, per);
  }

  /** @return working bytes of the layer's backward op (the larger of its forward and backward ops) */
  static long workingBytes(LayerNode n, Precision p, long b) {
    long in = b * n.inputElementsPerExample();
    long out = b * n.outputElementsPerExample();
    boolean low = n.switchable() && p != Precision.FP32;
    long int8Operands = p == Precision.INT8 ? in + n.weightCount() : 0;
    long elems;
    switch (n.type()) {
      case "conv" -> {
        long col = b * spatial(n) * (n.weightCount() / n.outputShape().get(0));
        elems = low ? 2 * col + 4 * out + int8Operands : 3 * col + 3 * out;
      }
      case "dense" -> elems = low ? 3 * out + int8Operands : 2 * out;
      case "output" -> elems = 3 * out;
      default -> elems = in;
    }
    return elems * FP32;
  }

  private static long spatial(LayerNode n) {
    List<Long> out = n.outputShape();
    return out.size() == 3 ? out.get(1) * out.get(2) : 1;
  }
}
