package io.qsync.planner.replay;

import java.util.List;

/**
 * A replayed synchronous iteration of the whole cluster.
 *
 * @param workers        per device type
 * @param clusterSeconds steady-state iteration time: {@code max_i busy_i} + the all-reduce not hidden behind it
 * @param slowestLink    the link that paces the collectives
 * @param criticalPath   readable critical path
 */
public record ReplayResult(List<WorkerReplay> workers, double clusterSeconds, String slowestLink, String criticalPath) {
    /** Copies the list. */
    public ReplayResult {
        workers = List.copyOf(workers);
    }

    /**
     * @param name worker label
     * @return its replay
     */
    public WorkerReplay worker(String name) {
        return workers.stream()
                .filter(w -> w.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("No worker '" + name + "' in the replay"));
    }
}
