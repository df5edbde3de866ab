package io.qsync.planner.alloc;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.replay.MemoryEstimator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.ojalgo.optimisation.Expression;
import org.ojalgo.optimisation.ExpressionsBasedModel;
import org.ojalgo.optimisation.Optimisation;
import org.ojalgo.optimisation.Variable;

/**
 * Memory-only planning as a MILP (QSync §6.3, solved with ojAlgo): binary {@code x[l,p]}, one precision per switchable
 * layer, {@code base + Σ bytes(l,p)·x[l,p] ≤ limit}, minimise {@code Σ ω(l,p)·x[l,p]}. No time constraint.
 */
public final class MemoryMilp {
    private MemoryMilp() {}

    /**
     * @param graph  network
     * @param omega  indicator
     * @param memory memory model (additive)
     * @param menu   allowed precisions
     * @param batch  examples per worker
     * @param limit  memory limit in bytes
     * @param device device name for messages
     * @return the optimal plan
     * @throws InfeasiblePlanException if nothing fits
     */
    public static Map<String, Precision> solve(
            LayerGraph graph,
            IndicatorTable omega,
            MemoryEstimator memory,
            List<Precision> menu,
            int batch,
            long limit,
            String device) {
        FixedState.check(device, limit, 0, graph, memory);
        double mib = 1 << 20;
        double fixed = memory.baseBytes(graph, batch);
        for (LayerNode n : graph.nodes()) {
            if (!n.switchable()) {
                fixed += memory.layerBytes(n, Precision.FP32, batch);
            }
        }
        ExpressionsBasedModel model = new ExpressionsBasedModel();
        Expression mem = model.addExpression("memory").upper((limit - fixed) / mib);
        Map<String, Map<Precision, Variable>> vars = new HashMap<>();
        for (String id : graph.switchableIds()) {
            Expression one = model.addExpression("one_" + id).level(1);
            LayerNode n = graph.node(id);
            for (Precision p : menu) {
                Variable x = model.addVariable(id + "_" + p).binary().weight(omega.omega(id, p));
                one.set(x, 1);
                mem.set(x, memory.layerBytes(n, p, batch) / mib);
                vars.computeIfAbsent(id, k -> new HashMap<>()).put(p, x);
            }
        }
        Optimisation.Result r = model.minimise();
        if (!r.getState().isFeasible()) {
            throw new InfeasiblePlanException(String.format(
                    Locale.ROOT,
                    "Device %s: no plan with precisions %s fits in "
                            + "%.1f MiB at batch %d (plan-independent part alone: %.1f MiB); lower the batch or raise the limit",
                    device,
                    menu,
                    limit / mib,
                    batch,
                    fixed / mib));
        }
        Map<String, Precision> plan = new HashMap<>();
        vars.forEach((id, m) -> m.forEach((p, x) -> {
            if (x.getValue().doubleValue() > 0.5) {
                plan.put(id, p);
            }
        }));
        return plan;
    }
}
