package io.qsync.planner.memory;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.ops.LowPrecisionGemm;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import java.util.HashMap;
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
 *   <li>Outside workspaces ({@link MemoryModel.Accounting#EMULATION}): FP32 buffers reused across iterations
 *       ({@code ArrayAllocator}), derived from {@code LowPrecisionGemm}/{@code LowPrecisionConv2d} and the layer
 *       implementations with the default INT8 quantizer (per tensor, deterministic rounding, dynamic scale) and
 *       FP8 / FP16 / BF16 / TF32. Each emulated layer at p ≠ FP32 keeps in its own pool what lives from its forward
 *       to its backward pass ({@link #keptBytes}):
 *       <ul>
 *         <li>dense: "x" in, "w" W (rounded/quantized operands), "zcache" out (pre-activation copy); INT8 also "xb"
 *             in, "wb" W (FP16 dequantized operands, written by the forward pass) = in + W + out (INT8: 2·in + 2·W
 *             + out);</li>
 *         <li>conv: "x" in (input before im2col), "w" W, "zcache" out = in + W + out.</li>
 *       </ul>
 *       The arrays that die within one op call come from one scratch pool shared by all emulated layers of the
 *       network, one buffer per role sized by the largest request ({@link #sharedScratchBytes}): "g" out (the
 *       backward-format output gradient, dense and conv); conv also "cols" col (forward im2col of the codes), "dz"
 *       out (NHWC-ordered delta), "dcols" col (dX columns), "colsb" col (im2col of the backward input) and, INT8,
 *       "xb" in, "wb" W (FP16 dequantized operands, derived in backward). So the pool holds
 *       Σ over roles of max over layers, not Σ over layers.
 *       {@link MemoryModel.Accounting#DEVICE}: what QSync keeps, input and weights at p's storage size.</li>
 * Not covered: memory that native libraries (OpenBLAS, oneDNN) allocate inside ops, short-lived garbage
 * allocated outside workspaces, the extra unpooled arrays of non-default INT8 quantizers (per-channel weights,
 * stochastic rounding, delayed scaling: their codes are fresh arrays instead of pooled ones), and scratch buffers a
 * shared pool still holds from an earlier plan with larger layers at low precision (the pool never shrinks).
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
            act += batch * n.outputElements() * FP32;
            int parity = n.index() % 2;
            eps[parity] = Math.max(eps[parity], batch * n.inputElements() * FP32);
            long w = workingBytes(n, p, batch);
            per.put(n.id(), w);
            if (w > largest) {
                largest = w;
                largestId = n.id();
            }
            if (acc == MemoryModel.Accounting.DEVICE && n.switchable() && p != Precision.FP32) {
                held += p.bytesFor(batch * n.inputElements()) + p.bytesFor(n.weightCount());
            }
        }
        long scratch = 0;
        if (acc == MemoryModel.Accounting.EMULATION) {
            scratch = sharedScratchBytes(graph, plan, batch);
            held = pooledBytes(graph, plan, batch);
        }
        long input = batch
                * (nodes.get(0).inputElements() + nodes.get(nodes.size() - 1).outputElements())
                * FP32;
        return new WorkingMemory(
                batch,
                Math.round(act * ACT_OVERALLOCATION),
                Math.round(eps[0] * LAYER_OVERALLOCATION) + Math.round(eps[1] * LAYER_OVERALLOCATION),
                Math.round(largest * LAYER_OVERALLOCATION),
                largestId,
                held,
                scratch,
                input,
                per);
    }

    /** @return working bytes of the layer in {@code WS_LAYER_WORKING_MEM} (the larger of its forward and backward ops) */
    static long workingBytes(LayerNode n, Precision p, long b) {
        long in = b * n.inputElements();
        long out = b * n.outputElements();
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
     * @return bytes of the FP32 buffers an emulated switchable layer at {@code p ≠ FP32} keeps in its own pool, from
     *         its forward to its backward pass (see the class comment); 0 for FP32 or non-switchable layers
     */
    static long keptBytes(LayerNode n, Precision p, long b) {
        if (!n.switchable() || p == Precision.FP32) {
            return 0;
        }
        long in = b * n.inputElements();
        long out = b * n.outputElements();
        long elems =
                switch (n.type()) {
                    case "conv" -> in + n.weightCount() + out;
                    case "dense" -> (p == Precision.INT8 ? 2 : 1) * (in + n.weightCount()) + out;
                    default -> 0;
                };
        return elems * FP32;
    }

    /**
     * @return role → FP32 elements of the scratch arrays an emulated switchable layer at {@code p ≠ FP32} requests
     *         (see the class comment); empty for FP32 or non-switchable layers
     */
    static Map<String, Long> scratchElements(LayerNode n, Precision p, long b) {
        Map<String, Long> roles = new LinkedHashMap<>();
        if (!n.switchable()
                || p == Precision.FP32
                || !(n.type().equals("conv") || n.type().equals("dense"))) {
            return roles;
        }
        long out = b * n.outputElements();
        roles.put("g", out);
        if (n.type().equals("conv")) {
            long col = b * spatial(n) * innerDim(n);
            roles.put("cols", col);
            roles.put("dz", out);
            roles.put("dcols", col);
            roles.put("colsb", col);
            if (p == Precision.INT8) {
                roles.put("xb", b * n.inputElements());
                roles.put("wb", n.weightCount());
            }
        }
        return roles;
    }

    /**
     * @return bytes of the scratch pool the emulated layers of the network share: Σ over roles of the largest request
     *         of any layer at its planned precision
     */
    static long sharedScratchBytes(LayerGraph graph, Map<String, Precision> plan, long b) {
        Map<String, Long> largest = new HashMap<>();
        for (LayerNode n : graph.nodes()) {
            scratchElements(n, plan.getOrDefault(n.id(), Precision.FP32), b)
                    .forEach((r, e) -> largest.merge(r, e, Math::max));
        }
        return largest.values().stream().mapToLong(Long::longValue).sum() * FP32;
    }

    /**
     * @return bytes of all pooled FP32 buffers the emulated layers of the network hold outside workspaces: each layer's
     *         {@link #keptBytes} plus the shared scratch pool once ({@link #sharedScratchBytes})
     */
    static long pooledBytes(LayerGraph graph, Map<String, Precision> plan, long b) {
        long kept = 0;
        for (LayerNode n : graph.nodes()) {
            kept += keptBytes(n, plan.getOrDefault(n.id(), Precision.FP32), b);
        }
        return kept + sharedScratchBytes(graph, plan, b);
    }

    /** @return the GEMM inner dimension K: C·kH·kW for conv, inputs per example for dense */
    private static long innerDim(LayerNode n) {
        return n.type().equals("conv") ? n.weightCount() / n.outputShape().get(0) : n.inputElements();
    }

    private static long spatial(LayerNode n) {
        List<Long> out = n.outputShape();
        return out.size() == 3 ? out.get(1) * out.get(2) : 1;
    }
}
