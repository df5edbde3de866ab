package io.qsync.planner.alloc;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.replay.Replayer;
import io.qsync.planner.replay.WorkerSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * QSync's greedy precision recovery (§6.2) for any number of device types, with its bugs fixed: every device type
 * starts at its fastest memory-feasible plan ({@link StartPlan}); the budget is the predicted cluster iteration time
 * of that start; then the raise with the largest gain {@code count × (ω(b) − ω(next b))} (the intended sign; QSync
 * wrapped around and ordered FP16→FP32 raises by the smallest gain) is tried on a copy of the plan (QSync mutated
 * the shared DAG even for rejected raises) and kept if the device still fits in memory and the cluster stays within
 * the budget. Because cast nodes couple neighbours, raising one layer of a run of equal-precision layers can cost more
 * than raising the whole run (uniform FP16 is as fast as uniform BF16, one FP16 layer between BF16 layers is not):
 * when a single raise is rejected for time, the whole run (the layer and the switchable layers connected to it through
 * inferable nodes at the same precision) is tried at the next level before the layer is dropped. A dropped layer is
 * not retried (as QSync). Cost: O(L·|menu|) candidate evaluations, each O(L).
 */
public final class GreedyAllocator {
    private final Replayer replayer;
    private final IndicatorTable omega;

    /**
     * @param replayer replayer of the network
     * @param omega    indicator table
     */
    public GreedyAllocator(Replayer replayer, IndicatorTable omega) {
        this.replayer = replayer;
        this.omega = omega;
    }

    private record Candidate(double gain, int group, String layer, int level) {}

    /**
     * @param groups device types (count 0 = left out)
     * @return the plan
     * @throws InfeasiblePlanException if there are no workers, no common precision or not enough memory
     */
    public Allocation allocate(List<DeviceGroup> groups) {
        LayerGraph g = replayer.graph();
        List<DeviceGroup> act = groups.stream().filter(d -> d.count() > 0).toList();
        if (act.isEmpty()) {
            throw new InfeasiblePlanException(
                    "The request has zero workers: give at least one device type a count >= 1 "
                            + "(e.g. --devices V100:1,T4:1)");
        }
        List<List<Precision>> menus = new ArrayList<>();
        List<WorkerSpec> ws = new ArrayList<>();
        List<String> log = new ArrayList<>();
        for (DeviceGroup d : act) {
            List<Precision> menu = PrecisionMenu.of(d.device(), g, omega);
            menus.add(menu);
            WorkerSpec w = new WorkerSpec(d.name(), d.device(), Map.of(), d.batch(), d.count());
            Map<String, Precision> start = StartPlan.fastest(w, replayer.model(w), menu, g, replayer.memory(), omega);
            ws.add(w.withPlan(start));
            log.add(d.name() + ": menu " + menu + ", fastest memory-feasible start " + summary(start));
        }
        double comm = replayer.collectiveSeconds(ws);
        double[] busy = new double[ws.size()];
        for (int i = 0; i < ws.size(); i++) {
            busy[i] = busyOf(ws.get(i));
        }
        double budget = max(busy) + comm;
        log.add(String.format(Locale.ROOT, "budget = start cluster iteration %.4f ms", budget * 1e3));
        PriorityQueue<Candidate> heap = new PriorityQueue<>((a, b) -> Double.compare(b.gain(), a.gain()));
        for (int i = 0; i < ws.size(); i++) {
            for (String id : g.switchableIds()) {
                push(
                        heap,
                        i,
                        id,
                        ws.get(i).plan().get(id),
                        menus.get(i),
                        act.get(i).count());
            }
        }
        int accepted = 0;
        int rejected = 0;
        while (!heap.isEmpty()) {
            Candidate c = heap.poll();
            WorkerSpec w = ws.get(c.group());
            List<Precision> menu = menus.get(c.group());
            Precision cur = w.plan().get(c.layer());
            if (menu.indexOf(cur) != c.level()) {
                continue; // stale: the layer was raised together with its run after this candidate was queued
            }
            Precision next = menu.get(menu.indexOf(cur) + 1);
            Map<String, Precision> copy = new HashMap<>(w.plan());
            copy.put(c.layer(), next);
            WorkerSpec cand = w.withPlan(copy);
            long peak = replayer.memory().peakBytes(g, copy, w.batch());
            if (peak > w.device().modelBudgetBytes()) {
                rejected++;
                log.add(String.format(
                        Locale.ROOT, "%s %s stays %s: %s would not fit in memory", w.name(), c.layer(), cur, next));
                continue;
            }
            double b = busyOf(cand);
            double old = busy[c.group()];
            busy[c.group()] = b;
            double t = max(busy) + comm;
            if (t > budget * (1 + 1e-12)) {
                List<String> run = RunFinder.run(g, w.plan(), c.layer());
                if (run.size() > 1) {
                    Map<String, Precision> all = new HashMap<>(w.plan());
                    run.forEach(id -> all.put(id, next));
                    WorkerSpec runCand = w.withPlan(all);
                    busy[c.group()] = busyOf(runCand);
                    double tr = max(busy) + comm;
                    if (tr <= budget * (1 + 1e-12)
                            && replayer.memory().peakBytes(g, all, w.batch())
                                    <= w.device().modelBudgetBytes()) {
                        ws.set(c.group(), runCand);
                        accepted++;
                        log.add(String.format(
                                Locale.ROOT,
                                "%s %s raised %s->%s together with its run %s: raising %s alone "
                                        + "would add casts at its neighbours (cluster %.3f ms > budget), the whole run keeps the cluster "
                                        + "at %.3f ms <= budget %.3f ms",
                                w.name(),
                                c.layer(),
                                cur,
                                next,
                                run,
                                c.layer(),
                                t * 1e3,
                                tr * 1e3,
                                budget * 1e3));
                        for (String id : run) {
                            push(
                                    heap,
                                    c.group(),
                                    id,
                                    next,
                                    menu,
                                    act.get(c.group()).count());
                        }
                        dedupe(heap, c.group(), run);
                        continue;
                    }
                }
                busy[c.group()] = old;
                rejected++;
                log.add(String.format(
                        Locale.ROOT,
                        "%s %s stays %s: raising it to %s (ω gain %.3g) would make the cluster "
                                + "%.3f ms > budget %.3f ms",
                        w.name(),
                        c.layer(),
                        cur,
                        next,
                        c.gain(),
                        t * 1e3,
                        budget * 1e3));
                continue;
            }
            ws.set(c.group(), cand);
            accepted++;
            log.add(String.format(
                    Locale.ROOT,
                    "%s %s raised %s->%s: the largest ω gain left (%.3g, %s) and the cluster "
                            + "stays at %.3f ms <= budget %.3f ms",
                    w.name(),
                    c.layer(),
                    cur,
                    next,
                    c.gain(),
                    omega.indicator(),
                    t * 1e3,
                    budget * 1e3));
            push(heap, c.group(), c.layer(), next, menu, act.get(c.group()).count());
        }
        double objective = objective(ws, omega);
        // the budget counts the whole all-reduce (an upper bound); the reported time hides what the buckets hide
        return new Allocation(ws, budget, replayer.clusterSeconds(ws), objective, accepted, rejected, log);
    }

    /** Removes older heap entries of the run's layers (their level changed); the fresh ones were just pushed. */
    private void dedupe(PriorityQueue<Candidate> heap, int group, List<String> run) {
        Map<String, Candidate> newest = new HashMap<>();
        List<Candidate> keep = new ArrayList<>();
        for (Candidate o : heap) {
            if (o.group() == group && run.contains(o.layer())) {
                Candidate prev = newest.get(o.layer());
                if (prev == null || o.level() > prev.level()) {
                    newest.put(o.layer(), o);
                }
            } else {
                keep.add(o);
            }
        }
        heap.clear();
        heap.addAll(keep);
        heap.addAll(newest.values());
    }

    private double busyOf(WorkerSpec w) {
        return replayer.model(w).evaluate(w.plan(), null, 0).busy();
    }

    private void push(
            PriorityQueue<Candidate> heap, int group, String id, Precision cur, List<Precision> menu, int count) {
        int level = menu.indexOf(cur);
        if (level >= 0 && level + 1 < menu.size()) {
            double gain = count * (omega.omega(id, cur) - omega.omega(id, menu.get(level + 1)));
            heap.add(new Candidate(gain, group, id, level));
        }
    }

    /**
     * @param ws    worker types with plans
     * @param omega indicator
     * @return Σ count × Σ ω
     */
    public static double objective(List<WorkerSpec> ws, IndicatorTable omega) {
        double s = 0;
        for (WorkerSpec w : ws) {
            for (Map.Entry<String, Precision> e : w.plan().entrySet()) {
                s += w.count() * omega.omega(e.getKey(), e.getValue());
            }
        }
        return s;
    }

    private static double max(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, x);
        }
        return m;
    }

    static String summary(Map<String, Precision> plan) {
        Map<Precision, Integer> counts = new java.util.EnumMap<>(Precision.class);
        plan.values().forEach(p -> counts.merge(p, 1, Integer::sum));
        return counts.toString();
    }
}
