package io.qsync.planner.report;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import java.util.List;
import java.util.Locale;

/** Renders a {@link ClusterPlan} as a fixed-width text table: one row per switchable layer, one column per type. */
public final class PlanTable {
    private PlanTable() {}

    /**
     * @param plan  the plan
     * @param graph the network (for layer order)
     * @return the table
     */
    public static String render(ClusterPlan plan, LayerGraph graph) {
        List<String> types = List.copyOf(plan.devices().keySet());
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-14s", "layer"));
        for (String t : types) {
            b.append(String.format(Locale.ROOT, " %-10s", t));
        }
        b.append('\n');
        for (String id : graph.switchableIds()) {
            b.append(String.format(Locale.ROOT, "%-14s", id));
            for (String t : types) {
                Precision p = plan.devices().get(t).layers().getOrDefault(id, Precision.FP32);
                b.append(String.format(Locale.ROOT, " %-10s", p));
            }
            b.append('\n');
        }
        b.append(String.format(Locale.ROOT, "%-14s", "batch/worker"));
        for (String t : types) {
            DevicePlan d = plan.devices().get(t);
            b.append(String.format(Locale.ROOT, " %-10s", d.batchPerWorker() + "x" + d.workers()));
        }
        b.append(String.format(
                Locale.ROOT,
                "%npredicted iteration %.3f ms (budget %.3f ms), Σω = %.4g%n",
                plan.clusterMillis(),
                plan.budgetMillis(),
                plan.objective()));
        if (!plan.rebalanceReason().isEmpty()) {
            b.append("rebalancing: ").append(plan.rebalanceReason()).append('\n');
        }
        return b.toString();
    }
}
