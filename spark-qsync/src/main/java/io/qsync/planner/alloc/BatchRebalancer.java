package io.qsync.planner.alloc;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.replay.Replayer;
import io.qsync.planner.replay.WorkerSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Compares the quantized plan with QSync's "DB" baseline (LB-BSP: keep every type at its highest precision and give
 * slower types smaller batches so all arrive together; the global batch is preserved) and with leaving each type out.
 * The batch split is found by bisection on the iteration time: each type takes the largest batch whose busy time
 * fits, and the time is lowered until the batches just cover the global batch.
 */
public final class BatchRebalancer {
    private final Replayer replayer;
    private final IndicatorTable omega;

    /**
     * @param replayer replayer
     * @param omega    indicator (for the menus)
     */
    public BatchRebalancer(Replayer replayer, IndicatorTable omega) {
        this.replayer = replayer;
        this.omega = omega;
    }

    /**
     * @param qsync the greedy allocation
     * @return the advice
     */
    public RebalanceAdvice advise(Allocation qsync) {
        List<WorkerSpec> ws = qsync.workers();
        int global = ws.stream().mapToInt(w -> w.count() * w.batch()).sum();
        double q = global / qsync.clusterSeconds();
        List<WorkerSpec> top = new ArrayList<>();
        for (WorkerSpec w : ws) {
            List<Precision> menu = PrecisionMenu.of(w.device(), replayer.graph(), omega);
            top.add(w.withPlan(StartPlan.uniform(replayer.graph().switchableIds(), menu.get(menu.size() - 1))));
        }
        List<String> options = new ArrayList<>();
        options.add(String.format(
                Locale.ROOT,
                "QSync plan, equal batches: %.1f samples/s (iteration %.3f ms)",
                q,
                qsync.clusterSeconds() * 1e3));
        List<WorkerSpec> db = split(top, global);
        double dbRate = db == null ? 0 : global / replayer.clusterSeconds(db);
        Map<String, Integer> dbBatches = new LinkedHashMap<>();
        if (db != null) {
            db.forEach(w -> dbBatches.put(w.name(), w.batch()));
            options.add(String.format(
                    Locale.ROOT, "DB (highest precision, batches %s): %.1f samples/s", dbBatches, dbRate));
        }
        Map<String, Double> leave = new LinkedHashMap<>();
        String bestName = "QSYNC";
        double best = q;
        if (dbRate > best * 1.02) {
            bestName = "DB";
            best = dbRate;
        }
        for (int i = 0; i < top.size() && top.size() > 1; i++) {
            List<WorkerSpec> rest = new ArrayList<>(top);
            String out = rest.remove(i).name();
            List<WorkerSpec> s = split(rest, global);
            double rate = s == null ? 0 : global / replayer.clusterSeconds(s);
            leave.put(out, rate);
            options.add(String.format(Locale.ROOT, "leave %s out (others rebalanced): %.1f samples/s", out, rate));
            if (rate > best * 1.02) {
                best = rate;
                bestName = "LEAVE_OUT:" + out;
            }
        }
        String reason =
                switch (bestName.startsWith("LEAVE_OUT") ? "LEAVE" : bestName) {
                    case "QSYNC" -> String.format(
                            Locale.ROOT,
                            "Keep the quantized plan: %.1f samples/s, no rebalancing or "
                                    + "leave-out option is more than 2%% faster (DB %.1f samples/s).",
                            q,
                            dbRate);
                    case "DB" -> String.format(
                            Locale.ROOT,
                            "Rebalance batches instead of quantizing: %.1f samples/s at the "
                                    + "highest precision with per-worker batches %s vs %.1f samples/s for the quantized plan.",
                            dbRate,
                            dbBatches,
                            q);
                    default -> String.format(
                            Locale.ROOT,
                            "Leave %s out: the remaining devices reach %.1f samples/s vs %.1f "
                                    + "for the quantized plan; %s adds less compute than it costs in waiting and all-reduce.",
                            bestName.substring(10),
                            best,
                            q,
                            bestName.substring(10));
                };
        return new RebalanceAdvice(bestName, q, dbRate, dbBatches, leave, reason, options);
    }

    /**
     * Every type of {@code workers} at its highest precision, with per-worker batches that cover {@code global} in the
     * smallest iteration time (the "DB" split, also of the types kept when one is left out).
     *
     * @param workers device types (their plans are replaced)
     * @param global  global batch to cover
     * @return the workers, or null if memory forbids covering the global batch
     */
    public List<WorkerSpec> rebalance(List<WorkerSpec> workers, int global) {
        List<WorkerSpec> top = new ArrayList<>();
        for (WorkerSpec w : workers) {
            List<Precision> menu = PrecisionMenu.of(w.device(), replayer.graph(), omega);
            top.add(w.withPlan(StartPlan.uniform(replayer.graph().switchableIds(), menu.get(menu.size() - 1))));
        }
        return split(top, global);
    }

    /** Per-worker batches covering {@code global} with the smallest iteration time; null if memory forbids it. */
    private List<WorkerSpec> split(List<WorkerSpec> ws, int global) {
        double lo = 0;
        double hi = 0;
        for (WorkerSpec w : ws) {
            hi = Math.max(hi, busy(w, global));
        }
        if (cover(ws, hi) < global) {
            return null;
        }
        for (int it = 0; it < 50; it++) {
            double mid = (lo + hi) / 2;
            if (cover(ws, mid) >= global) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        List<WorkerSpec> out = new ArrayList<>();
        int excess = -global;
        for (WorkerSpec w : ws) {
            WorkerSpec s = w.withBatch(maxBatch(w, hi, global));
            excess += s.count() * s.batch();
            out.add(s);
        }
        for (int i = 0; excess > 0 && i < 4 * global; i++) {
            int slowest = 0;
            for (int k = 1; k < out.size(); k++) {
                if (out.get(k).batch() > 0
                        && (out.get(slowest).batch() == 0
                                || busy(out.get(k), out.get(k).batch())
                                        > busy(
                                                out.get(slowest),
                                                out.get(slowest).batch()))) {
                    slowest = k;
                }
            }
            WorkerSpec s = out.get(slowest);
            if (s.count() > excess && s.batch() > 1) {
                break;
            }
            out.set(slowest, s.withBatch(s.batch() - 1));
            excess -= s.count();
        }
        return out;
    }

    private int cover(List<WorkerSpec> ws, double t) {
        int total = 0;
        for (WorkerSpec w : ws) {
            total += w.count() * maxBatch(w, t, Integer.MAX_VALUE / 4);
        }
        return total;
    }

    private int maxBatch(WorkerSpec w, double t, int cap) {
        LayerGraph g = replayer.graph();
        int lo = 0;
        int hi = Math.min(cap, 1 << 16);
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            boolean fits = busy(w, mid) <= t
                    && replayer.memory().peakBytes(g, w.plan(), mid)
                            <= w.device().modelBudgetBytes();
            if (fits) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    private double busy(WorkerSpec w, int batch) {
        WorkerSpec s = w.withBatch(batch);
        return replayer.model(s).evaluate(s.plan(), null, 0).busy();
    }
}
