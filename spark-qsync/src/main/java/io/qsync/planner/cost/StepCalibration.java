package io.qsync.planner.cost;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Calibrates a synchronous-step model from runs in the training context. The switchable layers' forward and backward
 * costs per precision are the medians of {@link LayerSamples} samples taken inside real {@code computeGradient}
 * calls (pooled over all calibration runs and workers); everything else (non-switchable layers, loss, updater, batch
 * assembly, the all-reduces) is a remainder {@code R}. Per run with worker plans {@code P_w} and measured median step
 * {@code T}, the model is {@code T = R + κ·max_w S(P_w)} with {@code S} the summed layer costs of a plan, and
 * {@code R} is fitted by least squares over the runs with κ = 1 (the hook measures wall time inside the step);
 * {@link #fit(boolean)} also fits κ, for backends whose layer clock changes how a step runs (a GPU step replayed as one
 * graph is timed layer by layer eagerly: the clocked costs are then a scaled picture of the replayed ones), given runs
 * whose layer sums differ enough (uniform plans beside mixed ones). Runs whose layer threads were descheduled (thread CPU time
 * below a share of wall time, i.e. another process took the core) are left out of layer costs and fit. Predict only plans that were not calibration runs.
 */
public final class StepCalibration {
    private final LayerGraph graph;
    private final Map<String, Integer> layerIndex;
    private final int batch;
    private final Map<String, List<Double>> layerRuns = new LinkedHashMap<>();
    private final Map<String, List<Double>> layerRunsAll = new LinkedHashMap<>();
    private final List<List<Map<String, Precision>>> runs = new ArrayList<>();
    private final List<Double> steps = new ArrayList<>();
    private final List<Boolean> clean = new ArrayList<>();
    private final List<Map<String, Double>> runLayers = new ArrayList<>();
    private final double minCpuShare;

    /**
     * The fitted model.
     *
     * @param kappa            scale on the summed layer costs
     * @param remainderSeconds non-switchable remainder per step
     * @param rmsRelativeError root mean square relative residual over the calibration runs
     * @param runs             number of calibration runs
     */
    public record Fit(double kappa, double remainderSeconds, double rmsRelativeError, int runs) {}

    /**
     * @param graph      network
     * @param layerIndex switchable layer id → its index in the network ({@code Layer.getIndex()})
     * @param batch      examples per worker step
     */
    public StepCalibration(LayerGraph graph, Map<String, Integer> layerIndex, int batch) {
        this(graph, layerIndex, batch, 0.85);
    }

    /**
     * @param graph       network
     * @param layerIndex  switchable layer id → its index in the network ({@code Layer.getIndex()})
     * @param batch       examples per worker step
     * @param minCpuShare runs whose layer threads got less CPU than this share of their wall time (descheduled by
     *                    other processes: {@link LayerSamples#cpuShare()}) are left out of the fit, unless all are
     */
    public StepCalibration(LayerGraph graph, Map<String, Integer> layerIndex, int batch, double minCpuShare) {
        this.graph = graph;
        this.layerIndex = new LinkedHashMap<>(layerIndex);
        this.batch = batch;
        this.minCpuShare = minCpuShare;
    }

    /**
     * Adds a calibration run.
     *
     * @param plans       one plan per worker (switchable id → precision; missing ids are FP32)
     * @param stepSeconds the measured median step time
     * @param layerTimes  the layer timings of this run (a recorder installed only during it)
     * @throws IllegalStateException if a layer of a plan has no timing in {@code layerTimes}
     */
    public void addRun(List<Map<String, Precision>> plans, double stepSeconds, LayerSamples layerTimes) {
        Map<String, Double> layers = new LinkedHashMap<>();
        for (Map<String, Precision> plan : plans) {
            for (Map.Entry<String, Integer> e : layerIndex.entrySet()) {
                Precision p = plan.getOrDefault(e.getKey(), Precision.FP32);
                for (boolean backward : new boolean[] {false, true}) {
                    String k = key(e.getKey(), p, backward);
                    double v = layerTimes.medianSeconds(e.getValue(), p, backward);
                    if (Double.isNaN(v)) {
                        throw new IllegalStateException("Run has no timing of layer " + e.getKey() + " at " + p
                                + ": was the recorder installed during the run?");
                    }
                    layers.put(k, v);
                }
            }
        }
        runs.add(List.copyOf(plans));
        steps.add(stepSeconds);
        clean.add(layerTimes.cpuShare() >= minCpuShare);
        runLayers.add(layers);
        rebuild();
    }

    /**
     * @param run calibration run index
     * @return true if the run is used (its layer threads were not descheduled, or no run was clean)
     */
    public boolean used(int run) {
        return clean.get(run) || !clean.contains(true);
    }

    private void rebuild() {
        layerRuns.clear();
        layerRunsAll.clear();
        for (int i = 0; i < runs.size(); i++) {
            runLayers.get(i).forEach((k, v) -> layerRunsAll
                    .computeIfAbsent(k, x -> new ArrayList<>())
                    .add(v));
            if (used(i)) {
                runLayers.get(i).forEach((k, v) -> layerRuns
                        .computeIfAbsent(k, x -> new ArrayList<>())
                        .add(v));
            }
        }
    }

    /**
     * @param id       switchable layer id
     * @param p        precision
     * @param backward direction
     * @return median over the undisturbed calibration runs of the per-run median seconds (over all runs that have
     *     this layer and precision if none of them was undisturbed)
     * @throws IllegalStateException if that layer never ran at {@code p} during calibration
     */
    public double layerSeconds(String id, Precision p, boolean backward) {
        List<Double> l = layerRuns.getOrDefault(key(id, p, backward), layerRunsAll.get(key(id, p, backward)));
        double v = l == null || l.isEmpty() ? Double.NaN : median(l);
        if (Double.isNaN(v)) {
            throw new IllegalStateException("No timing of layer " + id + " at " + p + (backward ? " (backward)" : "")
                    + ": add a calibration run that uses it");
        }
        return v;
    }

    /**
     * @param plan a worker's plan
     * @return summed measured switchable-layer seconds
     */
    public double switchableSeconds(Map<String, Precision> plan) {
        double s = 0;
        for (String id : layerIndex.keySet()) {
            Precision p = plan.getOrDefault(id, Precision.FP32);
            s += layerSeconds(id, p, false) + layerSeconds(id, p, true);
        }
        return s;
    }

    /**
     * The physical model: the hook measures the layers' wall time inside the real step, so κ = 1 and R is the least
     * squares intercept (the mean residual {@code T − max_w S}).
     *
     * @return {@code (R, κ = 1)}
     */
    public Fit fit() {
        return fit(false);
    }

    /**
     * @param scale also fit κ (two-parameter least squares: where the layer clock changes how steps run, or as a
     *              diagnostic: κ far from 1 means the layer timings and the step times disagree, e.g. because of
     *              load)
     * @return the fit
     */
    public Fit fit(boolean scale) {
        if (runs.isEmpty()) {
            throw new IllegalStateException("No calibration runs: add at least one with addRun");
        }
        List<Integer> use = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            if (used(i)) {
                use.add(i);
            }
        }
        int n = use.size();
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = maxOver(runs.get(use.get(i)));
            y[i] = steps.get(use.get(i));
        }
        double lo = Arrays.stream(x).min().orElse(0);
        double hi = Arrays.stream(x).max().orElse(0);
        LinearCost line;
        if (!scale || n < 3 || hi - lo < 0.05 * hi) {
            // too few or too similar plans to separate κ from R: κ = 1, R = mean residual
            double r = 0;
            for (int i = 0; i < n; i++) {
                r += (y[i] - x[i]) / n;
            }
            line = new LinearCost(1, r);
        } else {
            line = LinearCost.fit(x, y);
        }
        double sq = 0;
        for (int i = 0; i < n; i++) {
            double r = (line.seconds(x[i]) - y[i]) / y[i];
            sq += r * r;
        }
        return new Fit(line.alpha(), line.beta(), Math.sqrt(sq / n), n);
    }

    /**
     * @param fit   the fitted model
     * @param plans one plan per worker
     * @return predicted synchronous step seconds
     */
    public double predictSeconds(Fit fit, List<Map<String, Precision>> plans) {
        return fit.remainderSeconds() + fit.kappa() * maxOver(plans);
    }

    private static String key(String id, Precision p, boolean backward) {
        return id + "|" + p + "|" + backward;
    }

    private static double median(List<Double> l) {
        double[] v = l.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private double maxOver(List<Map<String, Precision>> plans) {
        double m = 0;
        for (Map<String, Precision> p : plans) {
            m = Math.max(m, switchableSeconds(p));
        }
        return m;
    }

    /**
     * A device profile that makes the {@code Replayer} reproduce this model: switchable layers at their measured
     * costs times κ for every precision that was measured, non-switchable layers at 0 (they are in R), and a step
     * overhead of {@code R} minus the ring all-reduces of {@code workers} ranks over {@code link}.
     *
     * @param name        profile name
     * @param source      provenance text
     * @param fit         the fitted model
     * @param menu        precisions (all must have been measured for every switchable layer)
     * @param memoryBytes memory per worker
     * @param link        the measured link
     * @param workers     ring size the remainder was measured with
     * @return the profile
     */
    public DeviceProfile toProfile(
            String name,
            String source,
            Fit fit,
            List<Precision> menu,
            long memoryBytes,
            Interconnect link,
            int workers) {
        List<LayerMeasurement> ms = new ArrayList<>();
        Map<Precision, Double> peaks = new LinkedHashMap<>();
        for (LayerNode n : graph.nodes()) {
            if (!layerIndex.containsKey(n.id())) {
                ms.add(new LayerMeasurement(n.signature(), batch, Precision.FP32, 0, 0));
                continue;
            }
            for (Precision p : menu) {
                double f = fit.kappa() * layerSeconds(n.id(), p, false);
                ms.add(new LayerMeasurement(n.signature(), batch, p, f, fit.kappa() * layerSeconds(n.id(), p, true)));
                if (n.signature().weightCount() > 0) {
                    peaks.merge(p, n.signature().forwardFlops(batch) / Math.max(f, 1e-9), Math::max);
                }
            }
        }
        double collective = link.gradientAllReduceSeconds(graph.totalParams(), workers);
        double overhead = Math.max(0, fit.remainderSeconds() - collective);
        return new DeviceProfile(
                name,
                false,
                source
                        + String.format(
                                " (fit: R %.2f ms, κ %.3f, rms %.1f%% over %d runs)",
                                fit.remainderSeconds() * 1e3, fit.kappa(), 100 * fit.rmsRelativeError(), fit.runs()),
                memoryBytes,
                menu,
                CastPolicy.IN_LAYER,
                new Roofline(peaks, 1.0, 8e9, 2e-5),
                ms,
                Map.of(),
                new LinearCost(0, 0),
                Map.of(graph.fingerprint() + "|" + batch, overhead),
                link);
    }
}
