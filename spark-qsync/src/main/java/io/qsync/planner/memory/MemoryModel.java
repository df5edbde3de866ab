package io.qsync.planner.memory;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Predicts a worker's memory for a precision plan and batch size:
 * {@code Σ_l (params_l + grads_l + updater_l)·4 B + Σ_l act_l(p_l, B) + context}.
 * Master parameters, gradients and updater state are FP32 whatever the plan (as in QSync). The activation term
 * act_l depends on the {@link Accounting}:
 * <ul>
 *   <li>{@link Accounting#DEVICE} (for planning, QSync §5.6 generalised): a switchable layer at precision p keeps
 *       its input at p's storage size ({@code B·in·bytes(p)}) plus, if p ≠ FP32, a low-precision copy of its weights
 *       ({@code D_w·bytes(p)}); every other layer keeps its FP32 input; the last layer also its FP32 output.</li>
 *   <li>{@link Accounting#EMULATION} (what this repository's ND4J CPU emulation really allocates, used to validate
 *       the model against measurements): every layer keeps its FP32 input (DL4J), the last layer its output; a
 *       switchable layer at p ≠ FP32 additionally keeps its own pool of FP32 buffers across iterations (rounded or
 *       quantized input and weights, a copy of its pre-activation). The conv im2col matrices and backward
 *       temporaries come from one scratch pool the emulated layers share; it is not additive over layers (Σ over
 *       roles of the largest layer's buffer) and is reported as {@link MemoryPrediction#sharedBytes()} (see
 *       {@link WorkspaceLayout} for the roles).</li>
 * </ul>
 * {@link #predictBytes} counts only what layers keep for backward; {@link #predictTotalBytes} and
 * {@link #workingMemory} add DL4J's workspace working memory (largest per-layer transient, activation gradients,
 * over-allocation), which is what a training iteration really holds.
 * The context term is fixed per worker (runtime, libraries, input batch buffers); measure it once on the device
 * (QSync uses nvidia-smi's used memory) and pass it in.
 */
public final class MemoryModel {
    /** How low-precision tensors are counted. */
    public enum Accounting {
        /** Tensors at their format's storage size (INT8/FP8 1 B, FP16/BF16 2 B, TF32/FP32 4 B). */
        DEVICE,
        /** ND4J CPU emulation: every tensor is FP32, low-precision layers keep extra rounded copies. */
        EMULATION
    }

    private static final long FP32 = 4;
    private final long contextBytes;
    private final Accounting accounting;

    /**
     * @param contextBytes fixed per-worker bytes (≥ 0)
     * @param accounting   how low-precision tensors are counted
     */
    public MemoryModel(long contextBytes, Accounting accounting) {
        if (contextBytes < 0 || accounting == null) {
            throw new IllegalArgumentException(
                    "contextBytes must be >= 0 and accounting non-null, got " + contextBytes + ", " + accounting);
        }
        this.contextBytes = contextBytes;
        this.accounting = accounting;
    }

    /** A DEVICE-accounting model without context term. */
    public MemoryModel() {
        this(0, Accounting.DEVICE);
    }

    /**
     * @param graph     the network's layer graph
     * @param plan      layer id → precision (layers not named are FP32)
     * @param batchSize examples per worker iteration (≥ 1)
     * @return the prediction with a per-layer breakdown
     * @throws IllegalArgumentException if the plan names an unknown layer or puts a non-switchable one below FP32
     */
    public MemoryPrediction predictBytes(LayerGraph graph, Map<String, Precision> plan, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        }
        for (Map.Entry<String, Precision> e : plan.entrySet()) {
            LayerNode n = graph.node(e.getKey());
            if (!n.switchable() && e.getValue() != Precision.FP32) {
                throw new IllegalArgumentException("Layer '" + n.id() + "' (" + n.type() + ") cannot run in "
                        + e.getValue() + "; only switchable dense/conv layers can");
            }
        }
        List<LayerMemory> layers = new ArrayList<>();
        long params = 0;
        long grads = 0;
        long upd = 0;
        long act = 0;
        int last = graph.nodes().size() - 1;
        for (LayerNode n : graph.nodes()) {
            Precision p = plan.getOrDefault(n.id(), Precision.FP32);
            long a = activationBytes(n, p, batchSize);
            if (n.index() == last) {
                a += batchSize * n.outputElements() * FP32;
            }
            LayerMemory lm = new LayerMemory(
                    n.id(), p, n.paramCount() * FP32, n.paramCount() * FP32, n.updaterStateSize() * FP32, a);
            layers.add(lm);
            params += lm.paramBytes();
            grads += lm.gradientBytes();
            upd += lm.updaterBytes();
            act += a;
        }
        long shared =
                accounting == Accounting.EMULATION ? WorkspaceLayout.sharedScratchBytes(graph, plan, batchSize) : 0;
        return new MemoryPrediction(
                batchSize,
                layers,
                params,
                grads,
                upd,
                act,
                shared,
                contextBytes,
                params + grads + upd + act + shared + contextBytes);
    }

    /**
     * The working-memory breakdown of a DL4J training iteration (workspaces, bytes low-precision layers hold outside
     * workspaces, the mini-batch); see {@link WorkspaceLayout} for the formulas. Under {@link Accounting#DEVICE} the
     * bytes held outside workspaces are counted at the formats' storage sizes.
     *
     * @param graph     the network's layer graph (a MultiLayerNetwork's)
     * @param plan      layer id → precision (layers not named are FP32)
     * @param batchSize examples per iteration (≥ 1)
     * @return the breakdown
     * @throws IllegalArgumentException as {@link #predictBytes(LayerGraph, Map, int)}
     */
    public WorkingMemory workingMemory(LayerGraph graph, Map<String, Precision> plan, int batchSize) {
        predictBytes(graph, plan, batchSize);
        return WorkspaceLayout.of(graph, plan, batchSize, accounting);
    }

    /**
     * Everything a training iteration holds: FP32 parameters, gradients and updater state, plus
     * {@link #workingMemory} (which replaces the activation term of {@link #predictBytes}), plus the context term.
     *
     * @param graph     the network's layer graph
     * @param plan      layer id → precision
     * @param batchSize examples per iteration (≥ 1)
     * @return predicted bytes
     */
    public long predictTotalBytes(LayerGraph graph, Map<String, Precision> plan, int batchSize) {
        MemoryPrediction p = predictBytes(graph, plan, batchSize);
        return p.paramBytes()
                + p.gradientBytes()
                + p.updaterBytes()
                + WorkspaceLayout.of(graph, plan, batchSize, accounting).totalBytes()
                + contextBytes;
    }

    private long activationBytes(LayerNode n, Precision p, long b) {
        long in = b * n.inputElements();
        if (accounting == Accounting.DEVICE) {
            if (!n.switchable() || p == Precision.FP32) {
                return in * FP32;
            }
            return p.bytesFor(in) + p.bytesFor(n.weightCount());
        }
        return in * FP32 + WorkspaceLayout.keptBytes(n, p, b);
    }
}
