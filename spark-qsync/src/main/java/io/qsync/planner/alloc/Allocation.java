package io.qsync.planner.alloc;

import io.qsync.planner.replay.WorkerSpec;
import java.util.List;

/**
 * An allocator result.
 *
 * @param workers        plan and batch per device type
 * @param budgetSeconds  predicted cluster iteration time of the fastest memory-feasible start (the budget)
 * @param clusterSeconds predicted cluster iteration time of the final plan
 * @param objective      Σ over device types of count × Σ_layers ω(layer, precision)
 * @param accepted       precision raises accepted
 * @param rejected       precision raises rejected (time or memory)
 * @param decisions      readable log of the decisions
 */
public record Allocation(
        List<WorkerSpec> workers,
        double budgetSeconds,
        double clusterSeconds,
        double objective,
        int accepted,
        int rejected,
        List<String> decisions) {
    /** Copies the lists. */
    public Allocation {
        workers = List.copyOf(workers);
        decisions = List.copyOf(decisions);
    }

    /**
     * @param name device type
     * @return its worker spec
     */
    public WorkerSpec worker(String name) {
        return workers.stream()
                .filter(w -> w.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("No device type '" + name + "' in the allocation"));
    }
}
