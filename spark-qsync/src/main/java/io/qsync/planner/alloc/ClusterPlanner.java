package io.qsync.planner.alloc;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.replay.PredictorMemory;
import io.qsync.planner.replay.Replayer;
import io.qsync.planner.replay.WorkerSpec;
import io.qsync.planner.report.ClusterPlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One planning run for a cluster: the greedy allocation, the rebalancing advice, the plan and the notes that explain
 * it (why layers were raised or kept, the options compared, uniform INT8 on each type that has it), and the plan to
 * train with when the advice is followed: the quantized plan, the "DB" batch split at the highest precisions, or the
 * kept types rebalanced when one is left out.
 *
 * @param replayer   the replayer the plan was made with
 * @param omega      the indicator
 * @param allocation the greedy allocation
 * @param advice     the rebalancing advice
 * @param plan       the quantized plan
 * @param notes      readable lines for the report
 */
public record ClusterPlanner(
        Replayer replayer,
        IndicatorTable omega,
        Allocation allocation,
        RebalanceAdvice advice,
        ClusterPlan plan,
        List<String> notes) {

    /** Copies the notes. */
    public ClusterPlanner {
        notes = List.copyOf(notes);
    }

    /**
     * @param model          model name
     * @param graph          the network's layer graph
     * @param omega          the indicator
     * @param groups         device types with counts and batches
     * @param indicatorNote  how the indicator was obtained (first note)
     * @return the planning run, replayed with the trainer's default bucket ({@link Replayer#DEFAULT_BUCKET_BYTES})
     */
    public static ClusterPlanner plan(
            String model, LayerGraph graph, IndicatorTable omega, List<DeviceGroup> groups, String indicatorNote) {
        return plan(model, graph, omega, groups, indicatorNote, Replayer.DEFAULT_BUCKET_BYTES);
    }

    /**
     * As {@link #plan(String, LayerGraph, IndicatorTable, List, String)}, replayed with the bucket the job trains with.
     *
     * @param bucketBytes the trainer's bucket ({@code spark.qsync.comm.bucketBytes}; 0: one all-reduce after the
     *                    backward pass)
     * @return the planning run
     */
    public static ClusterPlanner plan(
            String model,
            LayerGraph graph,
            IndicatorTable omega,
            List<DeviceGroup> groups,
            String indicatorNote,
            long bucketBytes) {
        Replayer r = new Replayer(graph, new PredictorMemory(), bucketBytes);
        Allocation a = new GreedyAllocator(r, omega).allocate(groups);
        RebalanceAdvice adv = new BatchRebalancer(r, omega).advise(a);
        List<String> notes = new ArrayList<>();
        notes.add("Indicator: " + omega.indicator() + indicatorNote);
        for (String d : a.decisions()) {
            if (d.contains(" raised ") || d.contains(" stays ")) {
                notes.add("Why: " + d);
            }
        }
        notes.addAll(adv.options());
        for (WorkerSpec w : a.workers()) {
            List<Precision> menu = PrecisionMenu.of(w.device(), r.graph(), omega);
            if (menu.contains(Precision.INT8) && a.workers().size() > 1) {
                List<WorkerSpec> uni = new ArrayList<>(a.workers());
                Map<String, Precision> int8 = new HashMap<>();
                r.graph().switchableIds().forEach(id -> int8.put(id, Precision.INT8));
                uni.replaceAll(x -> x == w ? w.withPlan(int8) : x);
                notes.add(String.format(
                        Locale.ROOT,
                        "Uniform INT8 on %s (others as planned): %.3f ms; this plan: %.3f ms",
                        w.name(),
                        r.clusterSeconds(uni) * 1e3,
                        a.clusterSeconds() * 1e3));
            }
        }
        notes.addAll(baselines(r, a.workers()));
        return new ClusterPlanner(r, omega, a, adv, ClusterPlan.of(model, a, adv), notes);
    }

    /**
     * The predictions a hybrid run is measured against besides the plan: every worker at FP32, and each type alone at
     * FP32 with the whole global batch (one line each, for the report).
     */
    private static List<String> baselines(Replayer r, List<WorkerSpec> workers) {
        List<String> out = new ArrayList<>();
        Map<String, Precision> fp32 = StartPlan.uniform(r.graph().switchableIds(), Precision.FP32);
        int global = workers.stream().mapToInt(w -> w.count() * w.batch()).sum();
        List<WorkerSpec> all = workers.stream().map(w -> w.withPlan(fp32)).toList();
        out.add(String.format(Locale.ROOT, "All FP32: %.3f ms", r.clusterSeconds(all) * 1e3));
        if (workers.size() > 1) {
            for (WorkerSpec w : workers) {
                if (w.count() > 0 && global % w.count() == 0) {
                    WorkerSpec alone = new WorkerSpec(w.name(), w.device(), fp32, global / w.count(), w.count());
                    out.add(String.format(
                            Locale.ROOT,
                            "%s alone (%d worker(s) x %d examples), FP32: %.3f ms",
                            w.name(),
                            w.count(),
                            global / w.count(),
                            r.clusterSeconds(List.of(alone)) * 1e3));
                }
            }
        }
        return out;
    }

    /**
     * QSync's rule for the strongest devices: they train at full precision and set the pace. Every type whose
     * predicted busy time with all layers at FP32 is within {@code tolerance} of the fastest type's is pinned to FP32
     * (its menu becomes FP32 only); the others keep their menus, so the allocator lowers their precisions only where
     * they would otherwise be the stragglers. A cluster of one type trains at FP32.
     *
     * @param graph     the network's layer graph
     * @param groups    device types with counts and batches
     * @param tolerance relative slack, e.g. 0.02
     * @return the groups, the fastest ones pinned
     */
    public static List<DeviceGroup> pinFastest(LayerGraph graph, List<DeviceGroup> groups, double tolerance) {
        Replayer r = new Replayer(graph, new PredictorMemory());
        Map<String, Precision> fp32 = StartPlan.uniform(graph.switchableIds(), Precision.FP32);
        double[] busy = new double[groups.size()];
        double fastest = Double.MAX_VALUE;
        for (int i = 0; i < groups.size(); i++) {
            DeviceGroup g = groups.get(i);
            WorkerSpec w = new WorkerSpec(g.name(), g.device(), fp32, g.batch(), g.count());
            busy[i] = r.model(w).evaluate(fp32, null, 0).busy();
            fastest = Math.min(fastest, busy[i]);
        }
        List<DeviceGroup> out = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            DeviceGroup g = groups.get(i);
            out.add(
                    busy[i] <= fastest * (1 + tolerance)
                            ? new DeviceGroup(
                                    g.name(), g.device().withPrecisions(List.of(Precision.FP32)), g.count(), g.batch())
                            : g);
        }
        return out;
    }

    /**
     * The workers to train with when the advice is followed: the quantized plan ({@code QSYNC}), every type at its
     * highest precision with the DB batches ({@code DB}; a type whose batch is 0 gets no worker), or the other types
     * rebalanced ({@code LEAVE_OUT:<type>}). The global batch is the same in every case.
     *
     * @return worker specs (types left out are absent)
     */
    public List<WorkerSpec> advisedWorkers() {
        String d = advice.decision();
        if (d.equals("QSYNC")) {
            return allocation.workers();
        }
        List<WorkerSpec> kept = new ArrayList<>(allocation.workers());
        if (d.startsWith("LEAVE_OUT:")) {
            String out = d.substring("LEAVE_OUT:".length());
            kept.removeIf(w -> w.name().equals(out));
        }
        int global = allocation.workers().stream()
                .mapToInt(w -> w.count() * w.batch())
                .sum();
        List<WorkerSpec> split = new BatchRebalancer(replayer, omega).rebalance(kept, global);
        if (split == null) {
            return allocation.workers(); // memory forbids the split: the advice could not have chosen it
        }
        return split.stream().filter(w -> w.batch() > 0).toList();
    }

    /**
     * @param model   model name
     * @param workers worker specs to describe (e.g. {@link #advisedWorkers()})
     * @return those workers as a plan, with their predicted iteration time
     */
    public ClusterPlan planOf(String model, List<WorkerSpec> workers) {
        if (workers.equals(allocation.workers())) {
            return plan;
        }
        Allocation a = new Allocation(
                workers,
                allocation.budgetSeconds(),
                replayer.clusterSeconds(workers),
                GreedyAllocator.objective(workers, omega),
                0,
                0,
                List.of("followed the advice: " + advice.decision()));
        return ClusterPlan.of(model, a, advice);
    }
}
