package io.qsync.planner.alloc;

import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.memory.MemoryPrediction;
import io.qsync.planner.replay.MemoryEstimator;
import io.qsync.planner.replay.PredictorMemory;
import java.util.Locale;
import java.util.Map;

/**
 * The plan-independent part of a worker's memory: FP32 master weights, gradients and optimizer state (plus the fixed
 * context). When that alone exceeds a device's memory no precision plan and no batch size can help, and the planner
 * says so instead of searching.
 */
final class FixedState {
    private static final double MIB = 1 << 20;

    private FixedState() {}

    /**
     * @param device  device name
     * @param limit   its memory in bytes
     * @param context its context term in bytes (counted with the fixed state)
     * @param graph   network
     * @param memory memory model
     * @throws InfeasiblePlanException if the fixed state does not fit
     */
    static void check(String device, long limit, long context, LayerGraph graph, MemoryEstimator memory) {
        long fixed;
        String parts;
        if (memory instanceof PredictorMemory pm) {
            MemoryPrediction p = pm.predict(graph, Map.of(), 1);
            fixed = p.paramBytes() + p.gradientBytes() + p.updaterBytes() + p.contextBytes() + context;
            parts = String.format(
                    Locale.ROOT,
                    "weights %.1f MiB + gradients %.1f MiB + optimizer state %.1f MiB + context " + "%.1f MiB",
                    p.paramBytes() / MIB,
                    p.gradientBytes() / MIB,
                    p.updaterBytes() / MIB,
                    (p.contextBytes() + context) / MIB);
        } else {
            fixed = memory.baseBytes(graph, 1) + context;
            parts = "weights + gradients + optimizer state + context";
        }
        if (fixed > limit) {
            throw new InfeasiblePlanException(String.format(
                    Locale.ROOT,
                    "Device %s cannot hold the training state of %s: "
                            + "%s = %.1f MiB (%d B) needed, %.1f MiB (%d B) available. These are FP32 whatever the precision plan, so no "
                            + "plan or batch size fits: use a device with more memory, a smaller model, or an optimizer with less "
                            + "state (e.g. SGD/momentum instead of Adam), or a smaller context (the profile's contextBytes).",
                    device,
                    graph.name(),
                    parts,
                    fixed / MIB,
                    fixed,
                    limit / MIB,
                    limit));
        }
    }
}
