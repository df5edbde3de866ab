package io.qsync.planner.alloc;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.replay.Replayer;
import io.qsync.planner.replay.WorkerModel;
import io.qsync.planner.replay.WorkerSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The exact optimum under the greedy allocator's constraints, by enumeration: minimise Σ count × Σ ω subject to every
 * device type fitting in memory and the cluster iteration time staying within the same budget. Because the
 * collectives do not depend on the plans, the cluster constraint splits into one constraint per device type
 * ({@code busy ≤ budget − collectives}) and the search is exhaustive per type: |menu|^L plans each. For small
 * networks only (reference for tests and the allocator benchmark).
 */
public final class ExhaustiveAllocator {
    private static final long LIMIT = 5_000_000;
    private final Replayer replayer;
    private final IndicatorTable omega;

    /**
     * @param replayer replayer
     * @param omega    indicator
     */
    public ExhaustiveAllocator(Replayer replayer, IndicatorTable omega) {
        this.replayer = replayer;
        this.omega = omega;
    }

    /**
     * @param start  the greedy result whose workers and budget define the constraints
     * @return optimal plans (same batches and counts)
     * @throws IllegalArgumentException if the search space exceeds 5 million plans per device type
     */
    public Allocation optimum(Allocation start) {
        LayerGraph g = replayer.graph();
        List<String> ids = g.switchableIds();
        double slack = start.budgetSeconds() - replayer.collectiveSeconds(start.workers());
        List<WorkerSpec> out = new ArrayList<>();
        double busyMax = 0;
        for (WorkerSpec w : start.workers()) {
            List<Precision> menu = PrecisionMenu.of(w.device(), g, omega);
            if (Math.pow(menu.size(), ids.size()) > LIMIT) {
                throw new IllegalArgumentException(
                        "Exhaustive search over " + menu.size() + "^" + ids.size() + " plans for " + w.name()
                                + " is too large; use the greedy allocator or fewer switchable layers");
            }
            WorkerModel model = replayer.model(w);
            int[] digit = new int[ids.size()];
            Map<String, Precision> best = null;
            double bestObj = Double.POSITIVE_INFINITY;
            double bestBusy = 0;
            while (true) {
                Map<String, Precision> plan = new HashMap<>();
                double obj = 0;
                for (int i = 0; i < ids.size(); i++) {
                    Precision p = menu.get(digit[i]);
                    plan.put(ids.get(i), p);
                    obj += omega.omega(ids.get(i), p);
                }
                if (obj < bestObj
                        && replayer.memory().peakBytes(g, plan, w.batch())
                                <= w.device().modelBudgetBytes()) {
                    double busy = model.evaluate(plan, null, 0).busy();
                    if (busy <= slack * (1 + 1e-12)) {
                        bestObj = obj;
                        best = plan;
                        bestBusy = busy;
                    }
                }
                int k = 0;
                while (k < digit.length && ++digit[k] == menu.size()) {
                    digit[k++] = 0;
                }
                if (k == digit.length) {
                    break;
                }
            }
            if (best == null) {
                throw new InfeasiblePlanException("No plan of " + w.name() + " meets the budget and its memory");
            }
            out.add(w.withPlan(best));
            busyMax = Math.max(busyMax, bestBusy);
        }
        return new Allocation(
                out,
                start.budgetSeconds(),
                replayer.clusterSeconds(out),
                GreedyAllocator.objective(out, omega),
                0,
                0,
                List.of("exhaustive optimum"));
    }
}
