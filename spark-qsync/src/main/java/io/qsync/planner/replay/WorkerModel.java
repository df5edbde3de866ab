package io.qsync.planner.replay;

import io.qsync.lowprec.Precision;
import io.qsync.planner.cost.CastPolicy;
import io.qsync.planner.cost.CostModel;
import io.qsync.planner.cost.LayerSignature;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The per-worker iteration graph of one device type at one batch size: a forward chain in topological order, a
 * backward chain in reverse, cast nodes by {@link CastRules} (for {@link CastPolicy#NEIGHBOUR} devices), the step
 * overhead and the optimizer step. Layer costs are cached per precision, so evaluating a plan is O(layers).
 */
public final class WorkerModel {
    private final LayerGraph graph;
    private final CostModel cost;
    private final int batch;
    private final int[][] preds;
    private final int[][] succs;
    private final LayerSignature[] sigs;
    private final double[][] fwd;
    private final double[][] bwd;
    private final double overhead;
    private final double optimizer;

    /**
     * @param graph network
     * @param cost  device costs
     * @param batch examples per worker
     */
    public WorkerModel(LayerGraph graph, CostModel cost, int batch) {
        this.graph = graph;
        this.cost = cost;
        this.batch = batch;
        List<LayerNode> nodes = graph.nodes();
        Map<String, Integer> idx = graph.indexById();
        int n = nodes.size();
        preds = new int[n][];
        succs = new int[n][];
        sigs = new LayerSignature[n];
        fwd = new double[n][Precision.values().length];
        bwd = new double[n][Precision.values().length];
        for (int i = 0; i < n; i++) {
            LayerNode node = nodes.get(i);
            preds[i] = node.predecessors().stream().mapToInt(idx::get).toArray();
            succs[i] = node.successors().stream()
                    .filter(idx::containsKey)
                    .mapToInt(idx::get)
                    .toArray();
            sigs[i] = node.signature();
            Arrays.fill(fwd[i], Double.NaN);
            Arrays.fill(bwd[i], Double.NaN);
        }
        overhead = batch == 0 ? 0 : cost.stepOverheadSeconds(graph.fingerprint(), batch);
        optimizer = cost.optimizerSeconds(graph.totalParams());
    }

    /** @return the device costs */
    public CostModel cost() {
        return cost;
    }

    /** @return examples per worker */
    public int batch() {
        return batch;
    }

    /**
     * Per-worker totals of a plan.
     *
     * @param forward   layer forward seconds
     * @param backward  layer backward seconds
     * @param casts     cast seconds
     * @param overhead  step overhead seconds
     * @param optimizer optimizer seconds
     */
    public record Breakdown(double forward, double backward, double casts, double overhead, double optimizer) {
        /** @return the sum: the time the worker is busy */
        public double busy() {
            return forward + backward + casts + overhead + optimizer;
        }
    }

    /**
     * Evaluates a plan.
     *
     * @param plan     switchable id → precision
     * @param timeline if non-null, receives the nodes (starting at {@code start})
     * @param start    start time of the first node
     * @return totals
     */
    public Breakdown evaluate(Map<String, Precision> plan, List<TimelineNode> timeline, double start) {
        return evaluate(plan, timeline, start, null);
    }

    /**
     * Evaluates a plan, recording when each node's backward pass is done.
     *
     * @param backwardEnd if non-null (one entry per node), receives the time each node's backward pass (and its weight
     *                    gradient's cast) is done
     * @return totals
     */
    public Breakdown evaluate(
            Map<String, Precision> plan, List<TimelineNode> timeline, double start, double[] backwardEnd) {
        if (batch == 0) {
            return new Breakdown(0, 0, 0, 0, optimizer);
        }
        List<LayerNode> nodes = graph.nodes();
        Precision[][] r = CastRules.resolve(graph, plan);
        boolean neighbour = cost.profile().castPolicy() == CastPolicy.NEIGHBOUR;
        double t = start;
        double f = 0;
        double b = 0;
        double c = 0;
        if (timeline != null && optimizer > 0) {
            timeline.add(new TimelineNode("OPT", "optimizer step", t, optimizer));
        }
        t += optimizer;
        if (overhead > 0 && timeline != null) {
            timeline.add(new TimelineNode("OVERHEAD", "framework overhead", t, overhead));
        }
        t += overhead;
        for (int i = 0; i < nodes.size(); i++) {
            LayerNode node = nodes.get(i);
            Precision in = r[i][0];
            if (neighbour) {
                double ci = 0;
                if (preds[i].length == 0) {
                    ci += cost.castSeconds(Precision.FP32, in, (double) sigs[i].inputElements() * batch);
                }
                for (int p : preds[i]) {
                    ci += cost.castSeconds(r[p][1], in, (double) sigs[p].outputElements() * batch);
                }
                if (node.switchable() && in != Precision.FP32) {
                    ci += cost.castSeconds(Precision.FP32, in, node.weightCount());
                }
                t = emit(timeline, "CAST", node.id() + " in->" + in, t, ci);
                c += ci;
            }
            double fi = layer(i, node.switchable() || neighbour ? in : Precision.FP32, false);
            t = emit(timeline, "FWD", node.id() + "[" + in + "]", t, fi);
            f += fi;
            if (neighbour && in == Precision.INT8 && node.switchable()) {
                double dq = cost.castSeconds(Precision.INT8, Precision.FP32, (double) sigs[i].outputElements() * batch);
                t = emit(timeline, "CAST", node.id() + " dequant", t, dq);
                c += dq;
            }
        }
        for (int i = nodes.size() - 1; i >= 0; i--) {
            LayerNode node = nodes.get(i);
            Precision bp = r[i][2];
            if (neighbour) {
                double ci = 0;
                for (int s : succs[i]) {
                    ci += cost.castSeconds(r[s][2], bp, (double) sigs[i].outputElements() * batch);
                }
                t = emit(timeline, "CAST", node.id() + " grad->" + bp, t, ci);
                c += ci;
            }
            Precision in = r[i][0];
            double bi = layer(i, node.switchable() || neighbour ? in : Precision.FP32, true);
            t = emit(timeline, "BWD", node.id() + "[" + in + "]", t, bi);
            b += bi;
            if (neighbour && node.switchable() && bp != Precision.FP32) {
                double wc = cost.castSeconds(bp, Precision.FP32, node.weightCount());
                t = emit(timeline, "CAST", node.id() + " dW->FP32", t, wc);
                c += wc;
            }
            if (backwardEnd != null) {
                backwardEnd[i] = t;
            }
        }
        return new Breakdown(f, b, c, overhead, optimizer);
    }

    private double layer(int i, Precision p, boolean backward) {
        double[] cache = backward ? bwd[i] : fwd[i];
        double v = cache[p.ordinal()];
        if (Double.isNaN(v)) {
            v = cost.layerSeconds(sigs[i], batch, p, backward);
            cache[p.ordinal()] = v;
        }
        return v;
    }

    private static double emit(List<TimelineNode> timeline, String kind, String label, double t, double d) {
        if (timeline != null && d > 0) {
            timeline.add(new TimelineNode(kind, label, t, d));
        }
        return t + d;
    }
}
