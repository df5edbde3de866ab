package io.qsync.bench;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.alloc.Allocation;
import io.qsync.planner.alloc.DeviceGroup;
import io.qsync.planner.alloc.GreedyAllocator;
import io.qsync.planner.cost.DeviceCatalog;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.indicator.Indicator;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.indicator.Indicators;
import io.qsync.planner.replay.PredictorMemory;
import io.qsync.planner.replay.Replayer;
import io.qsync.planner.replay.WorkerSpec;
import io.qsync.planner.stats.ModelStatistics;
import io.qsync.profile.NetworkGraphs;
import io.qsync.profile.StatisticsCollector;
import io.qsync.runtime.LocalShard;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The plans of the accuracy study, made by the real planner in the trade-off setting of the README: a V100 training
 * GPU pinned to FP32 with 256 examples per step and a T4 inference GPU (menu INT8, FP16, FP32) with 128, catalog
 * estimates, the ResNet-style CNN. The T4's fastest plan is faster than the V100 but its all-FP32 plan is slower,
 * so the allocator must leave some layers quantized and the indicator decides which. Indicators are computed from the
 * network's real state: {@code warmup} FP32 Adam steps on the study's training rows, then statistics over
 * {@link StatisticsCollector#DEFAULT_BATCHES} batches of 64 (16 Hutchinson probes).
 */
final class StudyPlans {
    /** The training device type. */
    static final String TRAIN = "V100";
    /** The inference device type. */
    static final String INFER = "T4";
    /** Examples per step of the training device in the plan. */
    static final int TRAIN_BATCH = 256;
    /** Examples per step of the inference device in the plan. */
    static final int INFER_BATCH = 128;
    /** The inference device's menu. */
    static final List<Precision> MENU = List.of(Precision.INT8, Precision.FP16, Precision.FP32);

    private final LayerGraph graph;
    private final Replayer replayer;
    private final Map<String, IndicatorTable> tables = new LinkedHashMap<>();

    /**
     * @param train  training rows (the warm-up reads the first {@code warmup × 64} rows, statistics the next 640)
     * @param warmup FP32 steps before the statistics; negative: no indicators (plans come from an earlier report)
     * @param seed   network seed
     */
    StudyPlans(LocalShard train, int warmup, long seed) {
        ComputationGraph net = new ComputationGraph(DemoModels.resnetCnn(seed, 1e-3));
        net.init();
        net = SwitchableLayers.convert(net);
        LayerGraph lg = NetworkGraphs.of(net, InputType.convolutionalFlat(28, 28, 1));
        graph = lg.withName("resnet-cnn");
        replayer = new Replayer(graph, new PredictorMemory());
        if (warmup < 0) {
            return;
        }
        int b = 64;
        int rows = train.count();
        for (int s = 0; s < warmup; s++) {
            int from = (s * b) % (rows - b);
            net.fit(train.batch(null, from, from + b, 10));
        }
        List<DataSet> batches = new ArrayList<>();
        for (int k = 0; k < StatisticsCollector.DEFAULT_BATCHES; k++) {
            int from = ((warmup + k) * b) % (rows - b);
            batches.add(train.batch(null, from, from + b, 10));
        }
        ModelStatistics stats = new StatisticsCollector(
                        StatisticsCollector.DEFAULT_HUTCHINSON_SAMPLES, StatisticsCollector.DEFAULT_EPSILON, seed)
                .collect(net, lg, batches);
        for (Indicator i : Indicators.all()) {
            tables.put(i.name(), i.compute(stats, lg, MENU));
        }
    }

    /** @return the switchable layer ids in graph order */
    List<String> layers() {
        return graph.switchableIds();
    }

    /** @return indicator name → table */
    Map<String, IndicatorTable> tables() {
        return tables;
    }

    /**
     * @param omega indicator table
     * @return the allocator's result for the study setting
     */
    Allocation allocate(IndicatorTable omega) {
        DeviceProfile v100 = DeviceCatalog.get(TRAIN).withPrecisions(List.of(Precision.FP32));
        DeviceProfile t4 = DeviceCatalog.get(INFER).withPrecisions(MENU);
        return new GreedyAllocator(replayer, omega)
                .allocate(List.of(
                        new DeviceGroup(TRAIN, v100, 1, TRAIN_BATCH), new DeviceGroup(INFER, t4, 1, INFER_BATCH)));
    }

    /**
     * @param plan the inference device's plan
     * @return its predicted busy time per step on the inference device (seconds)
     */
    double inferenceSeconds(Map<String, Precision> plan) {
        WorkerSpec w = new WorkerSpec(INFER, DeviceCatalog.get(INFER).withPrecisions(MENU), plan, INFER_BATCH, 1);
        return replayer.model(w).evaluate(plan, null, 0).busy();
    }

    /**
     * A random plan (each layer drawn uniformly from the menu) whose predicted inference-device time is closest to
     * {@code target}, among {@code draws} draws, different from {@code avoid}.
     */
    Map<String, Precision> randomPlanLike(double target, Map<String, Precision> avoid, long seed, int draws) {
        Random rnd = new Random(seed);
        Map<String, Precision> best = null;
        double bestGap = Double.POSITIVE_INFINITY;
        for (int d = 0; d < draws; d++) {
            Map<String, Precision> p = new HashMap<>();
            for (String id : layers()) {
                p.put(id, MENU.get(rnd.nextInt(MENU.size())));
            }
            double gap = Math.abs(inferenceSeconds(p) - target);
            if (gap < bestGap && !p.equals(avoid)) {
                bestGap = gap;
                best = p;
            }
        }
        return best;
    }

    /**
     * @param p precision
     * @return the plan with every switchable layer at {@code p}
     */
    Map<String, Precision> uniform(Precision p) {
        Map<String, Precision> m = new HashMap<>();
        layers().forEach(id -> m.put(id, p));
        return m;
    }
}
