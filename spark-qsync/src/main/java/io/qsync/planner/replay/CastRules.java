package io.qsync.planner.replay;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * QSync's neighbourhood rules (reference §5.4), generalised to every {@link Precision} and with its bugs fixed, plus
 * one rule of our own runtime (batch norm, below).
 *
 * <ul>
 *   <li>Switchable layers run at their planned precision {@code b}; their forward output is
 *       {@link #forwardOutput(Precision)} (INT8 GEMMs accumulate in INT32 and dequantize to FP32; FP8 GEMMs emit
 *       FP16; TF32 emits FP32) and their backward runs in {@link #backwardCompute(Precision)} (INT8/FP8 layers
 *       backprop in FP16, as QSync's LP-PyTorch; TF32 in FP32).</li>
 *   <li>"Inferable" nodes (pooling, activation, dropout, element-wise vertices...) inherit the forward output
 *       precision of their inputs when all inputs agree; otherwise they run FP32 and their inputs are cast (QSync left
 *       such a node at a stale precision that depended on the order in which neighbours were changed).</li>
 *   <li>Deny-list nodes (output/loss, softmax, layer norm, and weighted layers that cannot switch) run FP32, as in
 *       QSync.</li>
 *   <li>Batch norm runs FP32: <b>this is our runtime's rule, not QSync's</b>. DL4J's {@code BatchNormalization} has no
 *       precision-switchable version, so in our trainer (CPU emulation, and the CUDA kernels, which cover GEMMs and
 *       convolutions only) it always computes in FP32, and a low-precision neighbour pays a cast on each side.
 *       QSync's LP-PyTorch runs batch norm in FP16 on the inference GPU (autocast), which would make those casts
 *       disappear; our plans are priced for what our runtime executes.</li>
 * </ul>
 *
 * <p>Precisions are resolved in one topological pass from the plan alone, so evaluating a candidate never mutates
 * shared state (QSync's {@code change_dag_bit} mutated the DAG even for rejected candidates, §9.8).
 */
public final class CastRules {
    private static final Set<String> DENY =
            Set.of("batchnorm", "output", "losslayer", "lossvertex", "softmax", "layernorm");

    private CastRules() {}

    /**
     * @param b compute precision of a switchable layer
     * @return the precision of the tensor it emits in the forward pass
     */
    public static Precision forwardOutput(Precision b) {
        return switch (b) {
            case INT8, TF32 -> Precision.FP32;
            case FP8_E4M3, FP8_E5M2 -> Precision.FP16;
            default -> b;
        };
    }

    /**
     * @param b compute precision of a switchable layer
     * @return the precision its backward pass runs in and emits its input gradient in
     */
    public static Precision backwardCompute(Precision b) {
        return switch (b) {
            case INT8, FP8_E4M3, FP8_E5M2 -> Precision.FP16;
            case TF32 -> Precision.FP32;
            default -> b;
        };
    }

    /**
     * @param n node
     * @return true if the node always runs FP32 (deny list, or a weighted layer that is not switchable)
     */
    public static boolean denied(LayerNode n) {
        return DENY.contains(n.type()) || (!n.switchable() && n.weightCount() > 0);
    }

    /**
     * Resolves every node's precisions for a plan.
     *
     * @param g    graph
     * @param plan switchable layer id → precision (absent = FP32)
     * @return per node (in graph order): {forward input/compute, forward output, backward compute}
     */
    public static Precision[][] resolve(LayerGraph g, Map<String, Precision> plan) {
        List<LayerNode> nodes = g.nodes();
        Map<String, Integer> idx = g.indexById();
        Precision[][] r = new Precision[nodes.size()][];
        for (int i = 0; i < nodes.size(); i++) {
            LayerNode n = nodes.get(i);
            if (n.switchable()) {
                Precision b = plan.getOrDefault(n.id(), Precision.FP32);
                r[i] = new Precision[] {b, forwardOutput(b), backwardCompute(b)};
            } else if (denied(n)) {
                r[i] = new Precision[] {Precision.FP32, Precision.FP32, Precision.FP32};
            } else {
                Precision q = Precision.FP32;
                if (!n.predecessors().isEmpty()) {
                    q = r[idx.get(n.predecessors().get(0))][1];
                    for (String p : n.predecessors()) {
                        if (r[idx.get(p)][1] != q) {
                            q = Precision.FP32;
                            break;
                        }
                    }
                }
                r[i] = new Precision[] {q, q, q};
            }
        }
        return r;
    }
}
