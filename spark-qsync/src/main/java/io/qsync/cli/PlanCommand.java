package io.qsync.cli;

import io.qsync.data.FashionMnist;
import io.qsync.lowprec.Precision;
import io.qsync.planner.alloc.Allocation;
import io.qsync.planner.alloc.ClusterPlanner;
import io.qsync.planner.alloc.DeviceGroup;
import io.qsync.planner.cost.DeviceCatalog;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.cost.GpuMeasurements;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.indicator.HessianIndicator;
import io.qsync.planner.indicator.Indicator;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.indicator.Indicators;
import io.qsync.planner.replay.Replayer;
import io.qsync.planner.report.ClusterPlan;
import io.qsync.planner.report.PlanReport;
import io.qsync.planner.report.PlanTable;
import io.qsync.profile.StatisticsCollector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.api.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code qsync plan}: plans per-layer precisions for a hybrid cluster and writes plan JSON, a table and an HTML
 * report with PNG charts. The indicator ({@code --indicator-kind}, default GVAR) is computed from the network's real
 * state: {@code --warmup-steps} FP32 training steps on Fashion-MNIST first ({@link TrainedStatistics}), unless
 * {@code --indicator} gives a table JSON. The report lists why each layer was raised or kept low.
 */
@Command(
        name = "plan",
        mixinStandardHelpOptions = true,
        description = "Plan per-layer precisions for a hybrid cluster (Replayer + greedy Allocator).")
public final class PlanCommand implements Callable<Integer> {
    @Option(
            names = "--model",
            defaultValue = "resnet-cnn",
            description = "Demo model: " + CliModels.NAMES + ". Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(
            names = "--devices",
            description = "device types with counts and optional per-worker batch, e.g. V100:1:256,T4:1:128 (catalog "
                    + "names, names of --profile devices, or profile JSON paths; the batch defaults to --batch); default: every "
                    + "--profile device once")
    String devices;

    @Option(
            names = "--profile",
            description = "device profile JSON (DeviceProfile or a measured GPU profile, "
                    + "benchmarks/profiles/<card>.json), usable by name in --devices (repeatable)")
    List<Path> profiles = new ArrayList<>();

    @Option(names = "--batch", defaultValue = "128", description = "examples per worker per step")
    int batch;

    @Option(names = "--pin", description = "pin a type's menu, e.g. V100=FP32 (repeatable)")
    List<String> pins = new ArrayList<>();

    @Option(names = "--indicator", description = "indicator table JSON (default: computed, see --indicator-kind)")
    Path indicator;

    @Option(
            names = "--indicator-kind",
            defaultValue = "gvar",
            description = "gvar, wvar or hess. Default: " + "${DEFAULT-VALUE}.")
    String indicatorKind;

    @Option(
            names = "--warmup-steps",
            defaultValue = "" + TrainedStatistics.DEFAULT_WARMUP_STEPS,
            description = "FP32 "
                    + "training steps on Fashion-MNIST before the indicator statistics (0 = the network as built). Default: "
                    + "${DEFAULT-VALUE}.")
    int warmupSteps;

    @Option(
            names = "--warmup-batch",
            defaultValue = "" + TrainedStatistics.DEFAULT_BATCH,
            description = "examples " + "per warm-up and statistics batch. Default: ${DEFAULT-VALUE}.")
    int warmupBatch;

    @Option(names = "--data-dir", description = "Fashion-MNIST directory for the warm-up. Default: ${DEFAULT-VALUE}.")
    Path dataDir = FashionMnist.DEFAULT_DIR;

    @Option(
            names = "--bucket-bytes",
            defaultValue = "" + Replayer.DEFAULT_BUCKET_BYTES,
            description = "gradient bytes per all-reduce overlapped with the backward pass, as the job's "
                    + "spark.qsync.comm.bucketBytes (0: one all-reduce after it). Default: ${DEFAULT-VALUE}.")
    long bucketBytes;

    @Option(names = "--out", defaultValue = "plan", description = "output directory")
    Path out;

    /** Creates the command. */
    public PlanCommand() {}

    @Override
    public Integer call() throws Exception {
        if (bucketBytes < 0) {
            throw new IllegalArgumentException(
                    "--bucket-bytes must be >= 0 (0: one all-reduce after the backward pass), got " + bucketBytes);
        }
        Model net = CliModels.build(model, null, 1);
        LayerGraph lg = CliModels.graph(model, net);
        LayerGraph graph = lg.withName(CliModels.canonical(model));
        List<DeviceGroup> groups = groups();
        IndicatorTable omega =
                indicator != null ? IndicatorTable.fromJson(Files.readString(indicator)) : computed(net, lg);
        String how = indicator != null
                ? " from " + indicator
                : String.format(
                        Locale.ROOT,
                        " after %d FP32 warm-up steps of %d Fashion-MNIST images",
                        warmupSteps,
                        warmupBatch);
        ClusterPlanner planned = ClusterPlanner.plan(model, graph, omega, groups, how, bucketBytes);
        ClusterPlan plan = planned.plan();
        List<String> notes = planned.notes();
        Replayer r = planned.replayer();
        Allocation a = planned.allocation();
        PlanReport.write(out, plan, graph, r.replay(a.workers()), notes);
        System.out.print(PlanTable.render(plan, graph));
        notes.forEach(System.out::println);
        System.out.println(
                "wrote " + out.resolve("plan.json") + ", plan.txt, report.html, precision.png, timeline.png");
        return 0;
    }

    private List<DeviceGroup> groups() throws Exception {
        Map<String, String> pin = new HashMap<>();
        for (String p : pins) {
            String[] kv = p.split("=", 2);
            pin.put(kv[0], kv[1]);
        }
        Map<String, DeviceProfile> named = new java.util.LinkedHashMap<>();
        for (Path p : profiles) {
            DeviceProfile prof = GpuMeasurements.loadAny(p);
            named.put(prof.name().toUpperCase(Locale.ROOT), prof);
        }
        if (devices == null || devices.isBlank()) {
            if (named.isEmpty()) {
                throw new IllegalArgumentException("Give --devices (e.g. V100:1,T4:1) or at least one --profile");
            }
            devices = String.join(",", named.keySet());
        }
        List<DeviceGroup> groups = new ArrayList<>();
        for (String d : devices.split(",")) {
            String[] nc = d.trim().split(":");
            DeviceProfile prof = nc[0].endsWith(".json")
                    ? GpuMeasurements.loadAny(Path.of(nc[0]))
                    : named.getOrDefault(nc[0].toUpperCase(Locale.ROOT), null);
            if (prof == null) {
                prof = DeviceCatalog.get(nc[0]);
            }
            if (pin.containsKey(prof.name())) {
                prof = prof.withPrecisions(
                        java.util.Arrays.stream(pin.get(prof.name()).split("\\+"))
                                .map(Precision::valueOf)
                                .toList());
            }
            groups.add(new DeviceGroup(
                    prof.name(),
                    prof,
                    nc.length > 1 ? Integer.parseInt(nc[1]) : 1,
                    nc.length > 2 ? Integer.parseInt(nc[2]) : batch));
        }
        return groups;
    }

    private IndicatorTable computed(Model net, LayerGraph lg) {
        Indicator kind = Indicators.byName(indicatorKind);
        int probes = kind instanceof HessianIndicator ? StatisticsCollector.DEFAULT_HUTCHINSON_SAMPLES : 0;
        var stats = TrainedStatistics.collect(net, lg, dataDir, warmupSteps, warmupBatch, probes, 1);
        return kind.compute(stats, lg, Indicators.ALL_PRECISIONS);
    }
}
