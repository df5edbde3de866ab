package io.qsync.planner.memory;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.ops.LowPrecisionGemm;
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
 *   <li>{@code WS_LAYER_WORKING_MEM} (2 %): max over layers of their forward or backward op's working memory:
 *       FP32 conv (DL4J, no helper): 3·col + 3·out (im2col, its duplicate kept for backprop, epsNext2d; recomputed
 *       pre-activation, activation gradient, permuted delta); FP32 dense: 3·out (recomputed pre-activation, the
 *       f-ordered temporary of {@code mmuli} into DL4J's c-ordered result, activation gradient); output layer:
 *       3·out; other layers: in. An emulated conv or dense layer (p ≠ FP32) takes all its operand, im2col and backward buffers from its
 *       pool (below), so only DL4J's own arrays of its backward pass remain: 2·out (the pre-activation restored from
 *       the forward cache, the activation gradient). Exception, INT8 with an inner dimension
 *       {@code K > LowPrecisionGemm.EXACT_FP32_INT8_K} (dense: in per example, conv: C·kH·kW): the forward GEMM of
 *       the codes runs in FP64 with temporaries in this workspace, 2·X + 2·W + 5·out (X = in for dense, col for
 *       conv: FP64 copies of codes and weights; the FP64 product, c-ordered like the codes, plus the f-ordered
 *       temporary {@code mmuli} computes it in; its FP32 cast), if larger.</li>
 *   <li>Outside workspaces ({@link MemoryModel.Accounting#EMULATION}): an emulated layer at p ≠ FP32 holds a pool of
 *       FP32 buffers, one per role, kept across iterations ({@code ArrayAllocator.pooled()}); derived from
 *       {@code LowPrecisionGemm}/{@code LowPrecisionConv2d} with the default INT8 quantizer (per tensor,
 *       deterministic rounding, dynamic scale) and FP8 / FP16 / BF16 / TF32:
 *       <ul>
 *         <li>dense: "x" in, "w" W (rounded/quantized operands), "zcache" out (pre-activation copy), "g" out
 *             (backward-format output gradient); INT8 also "xb" in, "wb" W (FP16 dequantized operands);
 *             = in + W + 2·out (INT8: 2·in + 2·W + 2·out);</li>
 *         <li>conv: "x" in (input before im2col), "w" W, "cols" col (im2col of the codes), "zcache" out, "dz" out
 *             (NHWC-ordered delta), "g" out, "dcols" col (dX columns), "colsb" col (im2col of the backward input);
 *             INT8 also "xb" in, "wb" W; = in + W + 3·col + 3·out (INT8: 2·in + 2·W + 3·col + 3·out).</li>
 *       </ul>
 *       {@link MemoryModel.Accounting#DEVICE}: what QSync keeps, input and weights at p's storage size.</li>
 * Not covered: memory that native libraries (OpenBLAS, oneDNN) allocate inside ops, short-lived garbage
 * allocated outside workspaces, and the extra unpooled arrays of non-default INT8 quantizers (per-channel weights,
 * stochastic rounding, delayed scaling: their codes are fresh arrays instead of pooled ones).
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
            : pooledBytes(n, p, batch);
      }
    }
    long input = batch * (nodes.get(0).inputElementsPerExample() + nodes.get(nodes.size() - 1)
        .outputElementsPerExample()) * FP32;
    return new WorkingMemory(batch, Math.round(act * ACT_OVERALLOCATION),
        Math.round(eps[0] * LAYER_OVERALLOCATION) + Math.round(eps[1] * LAYER_OVERALLOCATION),
        Math.round(largest * LAYER_OVERALLOCATION), largestId, held, input, per);
  }

  /** @return working bytes of the layer in {@code WS_LAYER_WORKING_MEM} (the larger of its forward and backward ops) */
  static long workingBytes(LayerNode n, Precision p, long b) {
    long in = b * n.inputElementsPerExample();
    long out = b * n.outputElementsPerExample();
    boolean low = n.switchable() && p != Precision.FP32;
    long elems;
    switch (n.type()) {
      case "conv" -> {
        long col = b * spatial(n) * innerDim(n);
        elems = low ? Math.max(2 * out, fp64Int8Gemm(n, p, col, out)) : 3 * col + 3 * out;
      }
      case "dense" -> elems = low ? Math.max(2 * out, fp64Int8Gemm(n, p, in, out)) : 3 * out;
      case "output" -> elems = 3 * out;
      default -> elems = in;
    }
    return elems * FP32;
  }

  /**
   * @return FP32 elements of the workspace temporaries of an INT8 forward GEMM whose inner dimension is too large
   *         for an exact FP32 product of codes (FP64 copies of X and W, c-ordered FP64 product and the f-ordered
   *         temporary of {@code mmuli}, FP32 cast); 0 otherwise. Assumes c-ordered codes (DL4J's activations, im2col).
   */
  private static long fp64Int8Gemm(LayerNode n, Precision p, long x, long out) {
    if (p != Precision.INT8 || innerDim(n) <= LowPrecisionGemm.EXACT_FP32_INT8_K) {
      return 0;
    }
    return 2 * x + 2 * n.weightCount() + 5 * out;
  }

  /**
   * @return bytes of the pooled FP32 buffers an emulated switchable layer at {@code p ≠ FP32} holds outside
   *         workspaces (all roles, see the class comment); 0 for FP32 or non-switchable layers
   */
  static long pooledBytes(LayerNode n, Precision p, long b) {
    if (!n.switchable() || p == Precision.FP32) {
      return 0;
    }
    long in = b * n.inputElementsPerExample();
    long out = b * n.outputElementsPerExample();
    long operands = (p == Precision.INT8 ? 2 : 1) * (in + n.weightCount());
    long elems = switch (n.type()) {
      case "conv" -> operands + 3 * b * spatial(n) * innerDim(n) + 3 * out;
      case "dense" -> operands + 2 * out;
      default -> 0;
    };
    return elems * FP32;
  }

  /** @return the GEMM inner dimension K: C·kH·kW for conv, inputs per example for dense */
  private static long innerDim(LayerNode n) {
    return n.type().equals("conv") ? n.weightCount() / n.outputShape().get(0) : n.inputElementsPerExample();
  }

  private static long spatial(LayerNode n) {
    List<Long> out = n.outputShape();
    return out.size() == 3 ? out.get(1) * out.get(2) : 1;
  }
}
