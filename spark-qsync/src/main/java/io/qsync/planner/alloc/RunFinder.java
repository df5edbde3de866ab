package io.qsync.planner.alloc;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import io.qsync.planner.replay.CastRules;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the run of a switchable layer: the switchable layers at the same precision connected to it directly or
 * through inferable nodes (which inherit precisions and so carry no cast between the run's layers).
 */
final class RunFinder {
    private RunFinder() {}

    static List<String> run(LayerGraph g, Map<String, Precision> plan, String start) {
        Precision p = plan.get(start);
        Set<String> seen = new HashSet<>();
        List<String> run = new ArrayList<>();
        Deque<String> todo = new ArrayDeque<>();
        todo.add(start);
        seen.add(start);
        while (!todo.isEmpty()) {
            LayerNode n = g.node(todo.poll());
            if (n.switchable()) {
                run.add(n.id());
            }
            List<String> next = new ArrayList<>(n.predecessors());
            next.addAll(n.successors());
            for (String id : next) {
                if (seen.contains(id)) {
                    continue;
                }
                LayerNode m = g.node(id);
                boolean joins = m.switchable() ? plan.get(id) == p : !CastRules.denied(m);
                if (joins) {
                    seen.add(id);
                    todo.add(id);
                }
            }
        }
        return run;
    }
}
