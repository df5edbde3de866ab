package io.qsync.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qsync.planner.alloc.ClusterPlanner;
import io.qsync.planner.alloc.DeviceGroup;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.indicator.HessianIndicator;
import io.qsync.planner.indicator.Indicator;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.indicator.Indicators;
import io.qsync.planner.replay.ReplayResult;
import io.qsync.planner.replay.WorkerSpec;
import io.qsync.planner.report.ClusterPlan;
import io.qsync.planner.report.PlanReport;
import io.qsync.profile.StatisticsCollector;
import io.qsync.runtime.LocalShard;
import io.qsync.runtime.ModelSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code spark.qsync.plan=auto} on the driver: the probe stage ({@link ProbeStage}) finds every rank's device and
 * profiles the types without a measured profile ({@link ProfileShelf}; saved to {@code <outDir>/profiles/<type>.json}, a
 * profiles directory for the next job); the indicator comes from a few batches of the
 * job's own rows through the actual model (after a short FP32 warm-up on a copy); the Replayer and the Allocator plan
 * ({@link ClusterPlanner}); plan.json, plan.txt, report.html and devices.json are written; the verdict is logged; and
 * the plan is bound to the ranks, leaving a device type out or rebalancing the batch when the planner found that
 * faster (unless {@code spark.qsync.plan.rebalance=false}).
 */
final class AutoPlan {
    private static final Logger LOG = LoggerFactory.getLogger(AutoPlan.class);
    /** Minibatches the indicator statistics are collected over. */
    static final int INDICATOR_BATCHES = 4;
    /** Rows per indicator and warm-up batch. */
    static final int INDICATOR_ROWS = 32;
    /** Types whose FP32 step is within this share of the fastest type's train at FP32 (QSync's training GPUs). */
    static final double PIN_TOLERANCE = 0.02;

    private AutoPlan() {}

    /**
     * The plan a job made for itself.
     *
     * @param settings the job's settings, with fewer workers when a device type is left out
     * @param binding  the plan bound to the ranks
     * @param dir      where plan.json and the report are
     * @param plan     the plan trained with
     * @param verdict  the planner's verdict, one line with its numbers
     * @param predicted the Replayer's compute and exposed exchange per device type for the plan trained with
     * @param rankTypes the device type of each rank that trains, by rank
     */
    record Outcome(
            TrainSettings settings,
            ClusterPlanBinding binding,
            Path dir,
            ClusterPlan plan,
            String verdict,
            Map<String, PlanCheck.Predicted> predicted,
            List<String> rankTypes) {}

    /**
     * @param sc       the job's context
     * @param selected the training rows (features and label columns)
     * @param model    the network to train
     * @param s        the job's settings ({@code s.autoPlan().auto()})
     * @return the plan and the settings to train with
     */
    static Outcome make(SparkContext sc, Dataset<Row> selected, ModelSpec model, TrainSettings s) {
        int n = s.numWorkers();
        int global = s.runtime().globalBatchSize();
        if (global % n != 0) {
            throw new IllegalArgumentException("spark.qsync.plan=auto starts from equal shares: spark.qsync.batchSize="
                    + global + " must be a multiple of spark.qsync.numWorkers=" + n);
        }
        int local = global / n;
        ModelSpec switchable = PlanGraphs.switchable(model);
        Model net = switchable.restore();
        LayerGraph graph = PlanGraphs.of(net);
        String name = "network-" + graph.totalParams() + "p";
        graph = graph.withName(name);
        int classes = s.runtime().numClasses();
        int warmup = s.autoPlan().warmupSteps();
        // the whole global batch: a GPU type is also profiled at it (ProbeStage)
        int rows = Math.max(global, (warmup + INDICATOR_BATCHES) * INDICATOR_ROWS);
        LocalShard sample =
                RowShards.read(selected.limit(rows).collectAsList().iterator(), s.featuresCol(), s.labelCol(), classes);
        if (sample.count() < local) {
            throw new IllegalArgumentException("spark.qsync.plan=auto needs at least one local batch of " + local
                    + " rows (spark.qsync.batchSize / spark.qsync.numWorkers), the input has " + sample.count());
        }
        ProfileShelf shelf = new ProfileShelf(s.autoPlan().profilesDir());
        List<ProbeStage.Probed> probed = ProbeStage.run(
                sc,
                n,
                new ProbeStage.Request(
                        switchable,
                        sample,
                        local,
                        global,
                        shelf.knownTypes(),
                        s.autoPlan().profileSteps(),
                        s.runtime(),
                        s.devices(),
                        s.comm(),
                        JobSecurity.forJob(sc.getConf(), s.faults()),
                        s.autoPlan().coRunSteps()));
        Map<String, ProfileShelf.Resolved> profiles = new LinkedHashMap<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (ProbeStage.Probed p : probed) {
            counts.merge(p.device().type(), 1, Integer::sum);
        }
        for (String type : counts.keySet()) {
            ProbeStage.Probed measuredBy = probed.stream()
                    .filter(p -> p.device().type().equals(type))
                    .filter(p -> p.profileJson() != null || !p.profileError().isEmpty())
                    .findFirst()
                    .orElse(null);
            profiles.put(
                    type,
                    shelf.resolve(
                            type,
                            measuredBy == null ? null : measuredBy.profileJson(),
                            measuredBy == null ? -1 : measuredBy.device().rank(),
                            measuredBy == null ? "not attempted" : measuredBy.profileError()));
        }
        IndicatorTable omega = indicator(net, graph, sample, s);
        Map<String, DeviceProfile> alone = new LinkedHashMap<>();
        profiles.forEach((type, r) -> alone.put(type, r.profile()));
        CoRunCalibration.Outcome coRun =
                CoRunCalibration.apply(probed, alone, graph, local, s.runtime().bucketBytes());
        LOG.info("qsync plan=auto: {}", coRun.summary());
        List<DeviceGroup> groups = new ArrayList<>();
        counts.forEach((type, count) ->
                groups.add(new DeviceGroup(type, coRun.profiles().get(type), count, local)));
        List<DeviceGroup> pinned = ClusterPlanner.pinFastest(graph, groups, PIN_TOLERANCE);
        ClusterPlanner planner = ClusterPlanner.plan(
                name,
                graph,
                omega,
                pinned,
                String.format(
                        Locale.ROOT,
                        " from %d batches of %d of the job's rows after %d FP32 warm-up steps; at FP32 (the fastest "
                                + "types): %s",
                        INDICATOR_BATCHES,
                        INDICATOR_ROWS,
                        warmup,
                        pinned.stream()
                                .filter(g -> g.device().precisions().size() == 1)
                                .map(DeviceGroup::name)
                                .toList()),
                s.runtime().bucketBytes());
        List<WorkerSpec> workers = s.autoPlan().rebalance()
                ? planner.advisedWorkers()
                : planner.allocation().workers();
        ClusterPlan plan = planner.planOf(name, workers);
        String verdict = verdict(planner, plan, global, s.autoPlan().rebalance());
        ReplayResult replayed = planner.replayer().replay(workers);
        Path dir = write(s, planner, plan, replayed, graph, probed, profiles, verdict, coRun.summary());
        LOG.info("{} (plan in {})", verdict, dir);
        return bind(s, plan, probed, dir, verdict, PlanCheck.predictions(replayed));
    }

    /** The ranks whose type the plan keeps, bound to it; the settings shrink to them when a type is left out. */
    private static Outcome bind(
            TrainSettings s,
            ClusterPlan plan,
            List<ProbeStage.Probed> probed,
            Path dir,
            String verdict,
            Map<String, PlanCheck.Predicted> predicted) {
        List<String> keptTypes = new ArrayList<>();
        int keptCpu = 0;
        for (ProbeStage.Probed p : probed) {
            if (plan.devices().containsKey(p.device().type())) {
                keptTypes.add(p.device().type());
                keptCpu += s.devices().cpuRank(p.device().rank(), s.numWorkers()) ? 1 : 0;
            }
        }
        TrainSettings kept =
                keptTypes.size() == s.numWorkers() ? s : s.withWorkers(keptTypes.size(), keptTypes, keptCpu);
        ClusterPlanBinding binding = ClusterPlanBinding.of(
                plan, keptTypes, keptTypes.size(), s.runtime().globalBatchSize());
        return new Outcome(kept, binding, dir, plan, verdict, Map.copyOf(predicted), List.copyOf(keptTypes));
    }

    private static String verdict(ClusterPlanner planner, ClusterPlan trained, int global, boolean follow) {
        String decision = planner.advice().decision();
        return String.format(
                Locale.ROOT,
                "qsync plan=auto: %s (%s); training with %s: predicted iteration %.3f ms, %.1f samples/s (quantized "
                        + "plan %.3f ms). %s",
                decision,
                decision.equals("QSYNC") ? "quantized plan" : follow ? "advice followed" : "advice only reported",
                trained.devices().keySet(),
                trained.clusterMillis(),
                global / (trained.clusterMillis() / 1e3),
                planner.plan().clusterMillis(),
                planner.advice().reason());
    }

    private static IndicatorTable indicator(Model net, LayerGraph graph, LocalShard sample, TrainSettings s) {
        int classes = s.runtime().numClasses();
        int per = Math.max(1, sample.count() / INDICATOR_ROWS);
        int rows = Math.min(INDICATOR_ROWS, sample.count());
        for (int i = 0; i < s.autoPlan().warmupSteps(); i++) {
            DataSet ds = sample.batch(null, (i % per) * rows, (i % per) * rows + rows, classes);
            if (net instanceof MultiLayerNetwork m) {
                m.fit(ds);
            } else {
                ((ComputationGraph) net).fit(ds);
            }
        }
        List<DataSet> batches = new ArrayList<>();
        for (int i = 0; i < INDICATOR_BATCHES; i++) {
            int b = (s.autoPlan().warmupSteps() + i) % per;
            batches.add(sample.batch(null, b * rows, b * rows + rows, classes));
        }
        Indicator kind = Indicators.byName(s.autoPlan().indicator());
        int probes = kind instanceof HessianIndicator ? StatisticsCollector.DEFAULT_HUTCHINSON_SAMPLES : 0;
        var stats = new StatisticsCollector(
                        probes, StatisticsCollector.DEFAULT_EPSILON, s.runtime().seed())
                .collect(net, graph, batches);
        return kind.compute(stats, graph, Indicators.ALL_PRECISIONS);
    }

    private static Path write(
            TrainSettings s,
            ClusterPlanner planner,
            ClusterPlan plan,
            ReplayResult replayed,
            LayerGraph graph,
            List<ProbeStage.Probed> probed,
            Map<String, ProfileShelf.Resolved> profiles,
            String verdict,
            String coRun) {
        try {
            Path dir = s.autoPlan().outDir().isEmpty()
                    ? Files.createTempDirectory("qsync-plan-")
                    : Path.of(s.autoPlan().outDir());
            List<String> notes = new ArrayList<>();
            notes.add(verdict);
            for (ProbeStage.Probed p : probed) {
                ProfileShelf.Resolved r = profiles.get(p.device().type());
                notes.add("Device: " + p.device().describe() + "; profile: " + r.source() + " ("
                        + r.profile().source() + ")");
            }
            notes.add("Profiles " + coRun);
            notes.addAll(planner.notes());
            PlanReport.write(dir, plan, graph, replayed, notes);
            if (!plan.equals(planner.plan())) {
                Files.writeString(dir.resolve("plan-qsync.json"), planner.plan().toJson());
            }
            for (ProbeStage.Probed p : probed) { // reusable: spark.qsync.plan.profilesDir=<dir>/profiles
                if (p.profileJson() != null) {
                    Files.createDirectories(dir.resolve("profiles"));
                    Files.writeString(dir.resolve("profiles").resolve(p.device().type() + ".json"), p.profileJson());
                }
            }
            List<Map<String, Object>> devices = new ArrayList<>();
            for (ProbeStage.Probed p : probed) {
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("device", p.device());
                d.put("profile", profiles.get(p.device().type()).source());
                if (!p.profileError().isEmpty()) {
                    d.put("profileError", p.profileError());
                }
                if (!p.coRun().isEmpty()) {
                    d.put("coRun", p.coRun());
                }
                devices.add(d);
            }
            Files.writeString(
                    dir.resolve("devices.json"),
                    new ObjectMapper()
                            .enable(SerializationFeature.INDENT_OUTPUT)
                            .writeValueAsString(devices));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("spark.qsync.plan=auto cannot write its plan (spark.qsync.plan.outDir)", e);
        }
    }
}
