package io.qsync.planner.alloc;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.replay.MemoryEstimator;
import io.qsync.planner.replay.WorkerModel;
import io.qsync.planner.replay.WorkerSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The fastest memory-feasible plan of one device type: the fastest uniform plan of its menu, improved layer by layer
 * (coordinate descent with the worker's full iteration cost including neighbourhood casts, two sweeps), then, if it
 * does not fit in memory, lowered layer by layer, taking each time the step that saves the most bytes per unit of ω
 * added (QSync's memory greedy popped the layer with the largest ω first, §6.3; this is the intended order).
 */
public final class StartPlan {
    private StartPlan() {}

    /**
     * @param w      worker type (its plan is ignored)
     * @param model  its iteration model
     * @param menu   precisions, lowest first
     * @param graph  network
     * @param memory memory model
     * @param omega  indicator
     * @return the start plan
     * @throws InfeasiblePlanException if even the lowest precision everywhere does not fit
     */
    public static Map<String, Precision> fastest(
            WorkerSpec w,
            WorkerModel model,
            List<Precision> menu,
            LayerGraph graph,
            MemoryEstimator memory,
            IndicatorTable omega) {
        List<String> ids = graph.switchableIds();
        Map<String, Precision> best = null;
        double bestT = Double.POSITIVE_INFINITY;
        for (Precision p : menu) {
            Map<String, Precision> u = uniform(ids, p);
            double t = model.evaluate(u, null, 0).busy();
            if (t < bestT) {
                bestT = t;
                best = u;
            }
        }
        for (int sweep = 0; sweep < 2; sweep++) {
            boolean improved = false;
            for (String id : ids) {
                for (Precision p : menu) {
                    if (p == best.get(id)) {
                        continue;
                    }
                    Map<String, Precision> c = new HashMap<>(best);
                    c.put(id, p);
                    double t = model.evaluate(c, null, 0).busy();
                    if (t < bestT * (1 - 1e-9)) {
                        bestT = t;
                        best = c;
                        improved = true;
                    }
                }
            }
            if (!improved) {
                break;
            }
        }
        return fitMemory(w, best, menu, graph, memory, omega);
    }

    private static Map<String, Precision> fitMemory(
            WorkerSpec w,
            Map<String, Precision> plan,
            List<Precision> menu,
            LayerGraph graph,
            MemoryEstimator memory,
            IndicatorTable omega) {
        long limit = w.device().modelBudgetBytes();
        FixedState.check(w.device().name(), w.device().memoryBytes(), w.device().contextBytes(), graph, memory);
        Map<String, Precision> cur = new HashMap<>(plan);
        long peak = memory.peakBytes(graph, cur, w.batch());
        while (peak > limit) {
            String bestId = null;
            Precision bestP = null;
            double bestScore = -1;
            for (String id : graph.switchableIds()) {
                int level = menu.indexOf(cur.get(id));
                if (level <= 0) {
                    continue;
                }
                Precision lower = menu.get(level - 1);
                LayerNode n = graph.node(id);
                long saved = memory.layerBytes(n, cur.get(id), w.batch()) - memory.layerBytes(n, lower, w.batch());
                double added = Math.max(1e-30, omega.omega(id, lower) - omega.omega(id, cur.get(id)));
                double score = saved / added;
                if (saved > 0 && score > bestScore) {
                    bestScore = score;
                    bestId = id;
                    bestP = lower;
                }
            }
            if (bestId == null) {
                throw memoryError(w, cur, graph, memory, peak);
            }
            cur.put(bestId, bestP);
            peak = memory.peakBytes(graph, cur, w.batch());
        }
        return cur;
    }

    private static InfeasiblePlanException memoryError(
            WorkerSpec w, Map<String, Precision> plan, LayerGraph graph, MemoryEstimator memory, long peak) {
        LayerNode biggest = null;
        long most = -1;
        for (LayerNode n : graph.nodes()) {
            long b = memory.layerBytes(n, n.switchable() ? plan.get(n.id()) : Precision.FP32, w.batch());
            if (b > most) {
                most = b;
                biggest = n;
            }
        }
        int fit = w.batch();
        long limit = w.device().modelBudgetBytes();
        while (fit > 1 && memory.peakBytes(graph, plan, fit) > limit) {
            fit = fit / 2;
        }
        return new InfeasiblePlanException(String.format(
                Locale.ROOT,
                "Device %s does not have enough memory even at "
                        + "the lowest precision of its menu: needs %.1f MiB (%.1f MiB context included), has %.1f MiB at batch %d; "
                        + "the largest layer is '%s' "
                        + "(%.1f MiB). Give %s a smaller batch (about %d fits), use a device with more memory, or leave %s out.",
                w.device().name(),
                (peak + w.device().contextBytes()) / 1048576.0,
                w.device().contextBytes() / 1048576.0,
                w.device().memoryBytes() / 1048576.0,
                w.batch(),
                biggest == null ? "?" : biggest.id(),
                most / 1048576.0,
                w.name(),
                memory.peakBytes(graph, plan, fit) <= limit ? fit : 0,
                w.name()));
    }

    static Map<String, Precision> uniform(List<String> ids, Precision p) {
        Map<String, Precision> m = new HashMap<>();
        for (String id : ids) {
            m.put(id, p);
        }
        return m;
    }
}
