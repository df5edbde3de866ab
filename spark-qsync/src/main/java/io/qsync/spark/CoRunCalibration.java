package io.qsync.spark;

import io.qsync.lowprec.Precision;
import io.qsync.planner.cost.CoRunScaling;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import io.qsync.planner.replay.PredictorMemory;
import io.qsync.planner.replay.ReplayResult;
import io.qsync.planner.replay.Replayer;
import io.qsync.planner.replay.WorkerSpec;
import io.qsync.runtime.Medians;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.math3.stat.correlation.PearsonsCorrelation;

/**
 * The probe stage's co-run (driver side): replays each of the co-run's configurations (every rank at that
 * configuration's precision, the local batch) from the profiles, and sets the Replayer's compute per device type and
 * exposed exchange of the last rank beside what the ranks measured. Per type, the FP32 configuration gives the factor on
 * FP32 work and per-step terms; the FP16 one, with that factor on its per-step terms, gives the factor on low-precision
 * work (sharing a card slows memory-bound kernels more: measured on an H200, 32 SMs beside 96, FP32 x0.98 and FP16
 * x1.06); the INT8 one, with both, the factor on INT8 work (on an H100 the FP16 factor, x1.10-1.13, over-predicted an
 * INT8 weak slice by 2.5-5.4 %). The exchange factor is the mean of the configurations' ratios. Each type also carries
 * its ranks' step-to-step jitter (median over ranks and configurations) and the job's step correlation between ranks,
 * which the Replayer turns into the expected wait for the latest of balanced workers. They scale the profiles
 * ({@link CoRunScaling}) before planning. Nothing changes when the co-run did not run or failed on any rank, or a ratio
 * is implausible; the summary says which.
 */
final class CoRunCalibration {
    private CoRunCalibration() {}

    /**
     * @param profiles the profiles to plan with, by device type
     * @param summary  what the co-run measured and did, for the report
     */
    record Outcome(Map<String, DeviceProfile> profiles, String summary) {}

    /**
     * @param probed   every rank's probe result
     * @param profiles resolved profiles by device type (measured with one rank alone)
     * @param graph    the network
     * @param local    rows per worker step
     * @param bucketBytes the bucket the co-run and training all-reduce with ({@code spark.qsync.comm.bucketBytes})
     * @return corrected profiles and a summary
     */
    static Outcome apply(
            List<ProbeStage.Probed> probed,
            Map<String, DeviceProfile> profiles,
            LayerGraph graph,
            int local,
            long bucketBytes) {
        if (probed.size() < 2 || probed.stream().allMatch(p -> p.coRun().isEmpty())) {
            return new Outcome(profiles, "co-run: none (a single worker, or spark.qsync.plan.coRunSteps=0)");
        }
        int configs = probed.get(0).coRun().size();
        for (ProbeStage.Probed p : probed) {
            String why = p.coRun().isEmpty()
                    ? "rank " + p.device().rank() + " did not run it"
                    : p.coRun().stream()
                            .filter(r -> !r.ok())
                            .map(CoRunProbe.Result::error)
                            .findFirst()
                            .orElse(null);
            if (why == null && p.coRun().size() != configs) {
                why = "rank " + p.device().rank() + " ran " + p.coRun().size() + " configurations, rank 0 " + configs;
            }
            if (why != null) {
                return new Outcome(profiles, "co-run: failed, profiles used as measured alone (" + why + ")");
            }
        }
        Map<String, List<ProbeStage.Probed>> byType = new LinkedHashMap<>();
        for (ProbeStage.Probed p : probed) {
            byType.computeIfAbsent(p.device().type(), t -> new ArrayList<>()).add(p);
        }
        Replayer replayer = new Replayer(graph, new PredictorMemory(), bucketBytes);
        List<ReplayResult> predicted = new ArrayList<>();
        List<List<WorkerSpec>> configSpecs = new ArrayList<>();
        double exchangeSum = 0;
        StringBuilder summary = new StringBuilder(
                String.format(Locale.ROOT, "co-run of %d ranks (%s rows each)", probed.size(), local));
        for (int c = 0; c < configs; c++) {
            int config = c;
            List<WorkerSpec> specs = new ArrayList<>();
            byType.forEach((type, ranks) -> specs.add(new WorkerSpec(
                    type, profiles.get(type), uniform(graph, precision(ranks, config)), local, ranks.size())));
            ReplayResult r = replayer.replay(specs);
            predicted.add(r);
            configSpecs.add(specs);
            ProbeStage.Probed late = probed.stream()
                    .max(Comparator.comparingDouble(p -> p.coRun().get(config).computeMs()))
                    .orElseThrow();
            double predictedMs = 1e3 * r.worker(late.device().type()).allReduceSeconds();
            double ratio = late.coRun().get(c).exchangeMs() / predictedMs;
            exchangeSum += ratio;
            summary.append(String.format(
                    Locale.ROOT,
                    "; at %s: exposed exchange of the last rank (%d, %s) %.3f ms measured vs %.3f ms predicted (x%.3f)",
                    describe(byType, c),
                    late.device().rank(),
                    late.device().type(),
                    late.coRun().get(c).exchangeMs(),
                    predictedMs,
                    ratio));
        }
        double exchange = exchangeSum / configs;
        double correlation = stepCorrelation(probed);
        summary.append(
                String.format(Locale.ROOT, "; the ranks' steps varied together with correlation %.2f", correlation));
        Map<String, DeviceProfile> out = new LinkedHashMap<>(profiles);
        for (Map.Entry<String, List<ProbeStage.Probed>> e : byType.entrySet()) {
            CoRunScaling.Factors f = factors(
                    e.getKey(),
                    e.getValue(),
                    predicted,
                    fp32Share(replayer, configSpecs, predicted, e.getKey()),
                    exchange,
                    summary);
            try {
                f = withInt8(f, e.getKey(), e.getValue(), replayer, configSpecs, summary)
                        .withJitter(jitter(e.getKey(), e.getValue(), summary), correlation);
                out.put(
                        e.getKey(),
                        CoRunScaling.apply(
                                profiles.get(e.getKey()),
                                f,
                                String.format(
                                        Locale.ROOT,
                                        "co-run in the job: compute x%.3f (FP32) x%.3f (INT8) x%.3f (other "
                                                + "precisions), exchange x%.3f, step jitter %.1f %%",
                                        f.compute(),
                                        f.int8(),
                                        f.lowPrecision(),
                                        f.exchange(),
                                        100 * f.jitter())));
            } catch (IllegalArgumentException ex) {
                return new Outcome(profiles, summary + "; not applied: " + ex.getMessage());
            }
        }
        return new Outcome(Map.copyOf(out), summary + "; applied to the profiles");
    }

    /**
     * The part of the type's predicted compute (ms) in the second configuration that the FP32 factor scales (per-step
     * terms, layers that stay FP32): the prediction is linear in the two factors, so replaying it once more with the
     * FP32 factor at 2 gives it. 0 with a single configuration.
     */
    private static double fp32Share(
            Replayer replayer, List<List<WorkerSpec>> configSpecs, List<ReplayResult> predicted, String type) {
        if (configSpecs.size() < 2) {
            return 0;
        }
        double base = 1e3 * predicted.get(1).worker(type).busySeconds();
        return busyMs(replayer, configSpecs.get(1), type, new CoRunScaling.Factors(2, 1, 1)) - base;
    }

    /** One type's factors from its ranks' measurements in each configuration; appends them to the summary. */
    private static CoRunScaling.Factors factors(
            String type,
            List<ProbeStage.Probed> ranks,
            List<ReplayResult> predicted,
            double fp32ShareMs,
            double exchange,
            StringBuilder summary) {
        double[] meas = new double[predicted.size()];
        double[] pred = new double[predicted.size()];
        for (int c = 0; c < meas.length; c++) {
            int config = c;
            meas[c] = Medians.of(ranks.stream()
                    .mapToDouble(p -> p.coRun().get(config).computeMs())
                    .toArray());
            pred[c] = 1e3 * predicted.get(c).worker(type).busySeconds();
        }
        double fp32 = meas[0] / pred[0];
        double low = fp32;
        if (meas.length > 1 && precision(ranks, 1) != Precision.FP32) { // the FP32 share at the FP32 factor
            low = (meas[1] - fp32 * fp32ShareMs) / (pred[1] - fp32ShareMs);
        } else if (meas.length > 1) { // FP32 in every configuration (a CPU worker): one factor from all
            fp32 = Arrays.stream(meas).sum() / Arrays.stream(pred).sum();
            low = fp32;
        }
        for (int c = 0; c < meas.length; c++) {
            summary.append(String.format(
                    Locale.ROOT,
                    "; %s at %s: step less exchange %.3f ms measured vs %.3f ms predicted",
                    type,
                    precision(ranks, c),
                    meas[c],
                    pred[c]));
        }
        summary.append(String.format(Locale.ROOT, " (%s: FP32 work x%.3f, other precisions x%.3f)", type, fp32, low));
        return new CoRunScaling.Factors(fp32, low, exchange);
    }

    /**
     * The INT8 factor from the third configuration (uniform INT8 where the type trains on a GPU): its predicted compute
     * is linear in the factors, {@code rest + int8 * s8} with the FP32 and low-precision factors already found, so two
     * replays (INT8 factor 1 and 2) give {@code s8} and the rest. Unchanged without that configuration or INT8 work.
     */
    private static CoRunScaling.Factors withInt8(
            CoRunScaling.Factors f,
            String type,
            List<ProbeStage.Probed> ranks,
            Replayer replayer,
            List<List<WorkerSpec>> configSpecs,
            StringBuilder summary) {
        int c = 2;
        if (configSpecs.size() <= c || precision(ranks, c) != Precision.INT8) {
            return f;
        }
        double at1 = busyMs(
                replayer, configSpecs.get(c), type, new CoRunScaling.Factors(f.compute(), f.lowPrecision(), 1, 1));
        double at2 = busyMs(
                replayer, configSpecs.get(c), type, new CoRunScaling.Factors(f.compute(), f.lowPrecision(), 1, 2));
        double s8 = at2 - at1;
        if (!(s8 > 0)) {
            return f;
        }
        double meas = Medians.of(
                ranks.stream().mapToDouble(p -> p.coRun().get(c).computeMs()).toArray());
        double int8 = (meas - (at1 - s8)) / s8;
        summary.append(
                String.format(Locale.ROOT, " (%s: INT8 work x%.3f, with the factors above on the rest)", type, int8));
        return new CoRunScaling.Factors(f.compute(), f.lowPrecision(), f.exchange(), int8);
    }

    /**
     * The type's step-to-step jitter: the median over its ranks and the configurations of each one's relative spread
     * ({@link CoRunProbe.Result#jitter}); appended to the summary. Above {@link CoRunScaling#MAX_JITTER} it is taken
     * as a failed measurement and 0 is used, keeping the factors.
     */
    private static double jitter(String type, List<ProbeStage.Probed> ranks, StringBuilder summary) {
        double[] all = ranks.stream()
                .flatMap(p -> p.coRun().stream())
                .mapToDouble(CoRunProbe.Result::jitter)
                .filter(Double::isFinite)
                .toArray();
        double j = all.length == 0 ? 0 : Medians.of(all);
        boolean wild = j > CoRunScaling.MAX_JITTER;
        summary.append(String.format(
                Locale.ROOT, " (%s: step jitter %.1f %%%s)", type, 100 * j, wild ? " (implausible: not used)" : ""));
        return wild ? 0 : j;
    }

    /**
     * How the ranks' step-to-step variations moved together: the median, over the configurations and every pair of
     * ranks, of the Pearson correlation of their compute step by step (the k-th steps of all ranks are one synchronized
     * step); 0 where no pair has varying steps.
     */
    static double stepCorrelation(List<ProbeStage.Probed> probed) {
        List<Double> rs = new ArrayList<>();
        int configs = probed.get(0).coRun().size();
        for (int c = 0; c < configs; c++) {
            for (int a = 0; a < probed.size(); a++) {
                for (int b = a + 1; b < probed.size(); b++) {
                    double r = pearson(
                            probed.get(a).coRun().get(c).computeSteps(),
                            probed.get(b).coRun().get(c).computeSteps());
                    if (Double.isFinite(r)) {
                        rs.add(r);
                    }
                }
            }
        }
        return rs.isEmpty()
                ? 0
                : Medians.of(rs.stream().mapToDouble(Double::doubleValue).toArray());
    }

    private static double pearson(double[] x, double[] y) {
        int n = Math.min(x.length, y.length);
        if (n < 3) {
            return Double.NaN;
        }
        double r = new PearsonsCorrelation().correlation(Arrays.copyOf(x, n), Arrays.copyOf(y, n));
        return Double.isFinite(r) ? Math.max(-1, Math.min(1, r)) : Double.NaN;
    }

    /** The type's busy time (ms) in a configuration with its profile scaled by {@code by}. */
    private static double busyMs(Replayer replayer, List<WorkerSpec> config, String type, CoRunScaling.Factors by) {
        List<WorkerSpec> specs = new ArrayList<>();
        for (WorkerSpec w : config) {
            specs.add(
                    w.name().equals(type)
                            ? new WorkerSpec(
                                    w.name(),
                                    CoRunScaling.apply(w.device(), by, "share"),
                                    w.plan(),
                                    w.batch(),
                                    w.count())
                            : w);
        }
        return 1e3 * replayer.replay(specs).worker(type).busySeconds();
    }

    private static Precision precision(List<ProbeStage.Probed> ranks, int config) {
        return ranks.get(0).coRun().get(config).precision();
    }

    private static Map<String, Precision> uniform(LayerGraph graph, Precision p) {
        Map<String, Precision> plan = new LinkedHashMap<>();
        for (LayerNode n : graph.switchableNodes()) {
            plan.put(n.id(), p);
        }
        return plan;
    }

    /** A configuration in words: each type's precision, e.g. "h100-96sm FP16, cpu FP32". */
    private static String describe(Map<String, List<ProbeStage.Probed>> byType, int config) {
        List<String> parts = new ArrayList<>();
        byType.forEach((type, ranks) -> parts.add(type + " " + precision(ranks, config)));
        return String.join(", ", parts);
    }
}
