package io.qsync.bench;

import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.data.LabeledImages;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.cost.Profiler;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.replay.PlanGraph;
import io.qsync.planner.replay.PlanGraphs;
import io.qsync.planner.replay.ReplayResult;
import io.qsync.planner.replay.Replayer;
import io.qsync.planner.replay.SavedTensorMemory;
import io.qsync.planner.replay.WorkerSpec;
import io.qsync.runtime.ModelSpec;
import io.qsync.spark.QSyncKryoRegistrator;
import io.qsync.spark.TrainJob;
import io.qsync.spark.TrainOptions;
import io.qsync.spark.TrainSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Replayer vs reality: for each plan pair, profile the CPU device (1 native thread, as each trainer worker) for the
 * precisions the pair uses, predict the 2-worker synchronous step, then run the trainer (local[2], TCP ring, no
 * shuffle) and compare its median step time. Usage: {@code ReplayerVsRealityBench <results.md> [steps]}.
 */
public final class ReplayerVsRealityBench {
  private static final int GLOBAL = 128;

  private ReplayerVsRealityBench() {}

  /** Runs the study. */
  public static void main(String[] args) throws Exception {
    Path out = Path.of(args.length > 0 ? args[0] : "benchmarks/results/replayer.md");
    int steps = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    Nd4j.getEnvironment().setMaxThreads(1);
    Nd4j.getEnvironment().setMaxMasterThreads(1);
    Nd4j.factory().blas().setMaxThreads(1);
    LabeledImages data = FashionMnist.load(FashionMnist.Split.TRAIN).head(GLOBAL * steps);
    MultiLayerNetwork base = new MultiLayerNetwork(DemoModels.fashionCnn(1, 1e-3));
    base.init();
    MultiLayerNetwork net = SwitchableLayers.convert(base);
    PlanGraph graph = PlanGraphs.of("fashion-cnn", LayerGraph.of(net));
    DataSet shard = data.toShard().batch(null, 0, GLOBAL / 2, 10);
    List<String> sw = graph.switchableIds();
    List<Object[]> pairs = new ArrayList<>();
    for (Precision p : List.of(Precision.FP32, Precision.FP16, Precision.BF16, Precision.INT8,
        Precision.FP8_E4M3, Precision.TF32)) {
      pairs.add(new Object[] {"uniform " + p, uni(sw, p), uni(sw, p)});
    }
    pairs.add(new Object[] {"FP32 | INT8", uni(sw, Precision.FP32), uni(sw, Precision.INT8)});
    pairs.add(new Object[] {"FP16 | FP8", uni(sw, Precision.FP16), uni(sw, Precision.FP8_E4M3)});
    pairs.add(new Object[] {"mixed A | FP32", mixed(sw, Precision.INT8, Precision.FP16, Precision.FP32),
        uni(sw, Precision.FP32)});
    pairs.add(new Object[] {"mixed B | mixed C", mixed(sw, Precision.FP32, Precision.INT8, Precision.BF16),
        mixed(sw, Precision.FP8_E4M3, Precision.FP32, Precision.INT8)});
    pairs.add(new Object[] {"mixed D | BF16", mixed(sw, Precision.BF16, Precision.BF16, Precision.INT8),
        uni(sw, Precision.BF16)});
    pairs.add(new Object[] {"INT8 | mixed E", uni(sw, Precision.INT8), mixed(sw, Precision.FP16, Precision.INT8,
        Precision.FP32)});
    SparkSession spark = SparkSession.builder().master("local[2]").appName("replayer-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .config("spark.kryo.registrator", QSyncKryoRegistrator.class.getName()).getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    StringBuilder md = new StringBuilder("# Replayer vs reality (2 workers, local[2], 1 native thread each)\n\n");
    md.append("- Machine: ").append(BenchEnv.machine()).append("\n- Date: ").append(ZonedDateTime.now())
        .append("\n- Command: `java <spark.jvm.flags> -cp <classpath> io.qsync.bench.ReplayerVsRealityBench ")
        .append(String.join(" ", args)).append("`\n- Model: DemoModels.fashionCnn, switchable ").append(sw)
        .append(", global batch ").append(GLOBAL).append(" (64 per worker), ").append(steps)
        .append(" steps, spark.qsync.shuffle=false, progress=false, checksumEvery=0\n")
        .append("- Method: before each pair the CPU device is profiled (Profiler: warm-up 2, median of 7; FP32 layers in "
            + "isolation scaled to the whole step, other precisions by whole-step differences, step overhead, optimizer, casts, loopback ring α+β·bytes); the "
            + "Replayer predicts the steady-state cluster step; the trainer's `history.medianStepMillis(10)` is the "
            + "measurement.\n\n")
        .append("| # | plans (worker 0 \\| worker 1) | load avg | predicted ms | measured ms | error |\n")
        .append("|---|---|---|---|---|---|\n");
    ModelSpec spec = ModelSpec.of(base);
    TrainSettings s = TrainSettings.from(Map.of("spark.qsync.numWorkers", "2", "spark.qsync.batchSize",
        Integer.toString(GLOBAL), "spark.qsync.shuffle", "false", "spark.qsync.progress", "false",
        "spark.qsync.checksumEvery", "0", "spark.qsync.threadsPerWorker", "1"));
    double sumErr = 0;
    int k = 0;
    try {
      for (Object[] pair : pairs) {
        @SuppressWarnings("unchecked") Map<String, Precision> p0 = (Map<String, Precision>) pair[1];
        @SuppressWarnings("unchecked") Map<String, Precision> p1 = (Map<String, Precision>) pair[2];
        Set<Precision> used = EnumSet.of(Precision.FP32);
        used.addAll(p0.values());
        used.addAll(p1.values());
        DeviceProfile prof = new Profiler(2, 7).profile("cpu-1t", net, graph, shard, List.copyOf(used), GLOBAL);
        Replayer r = new Replayer(graph, new SavedTensorMemory());
        ReplayResult pred = r.replay(List.of(new WorkerSpec("w0", prof, p0, GLOBAL / 2, 1),
            new WorkerSpec("w1", prof, p1, GLOBAL / 2, 1)));
        TrainJob.Result res = TrainJob.train(spark, ImageFrames.toFrame(spark, data, 2), spec, s,
            TrainOptions.none().withPlans(List.of(new PrecisionPlan(p0), new PrecisionPlan(p1))));
        double meas = res.history().medianStepMillis(10);
        double predMs = pred.clusterSeconds() * 1e3;
        double err = (predMs - meas) / meas;
        sumErr += Math.abs(err);
        k++;
        String load = Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        md.append(String.format("| %d | %s | %s | %.2f | %.2f | %+.1f%% |%n", k, pair[0], load, predMs, meas,
            100 * err));
        System.out.printf("%s: predicted %.2f ms, measured %.2f ms (%+.1f%%)%n%s%n", pair[0], predMs, meas,
            100 * err, pred.criticalPath());
        if (k == 1) {
          Files.createDirectories(out.getParent());
          Files.writeString(out.resolveSibling("cpu-1t-profile.json"), prof.toJson());
        }
      }
    } finally {
      spark.stop();
    }
    md.append(String.format("%nMean absolute error over %d pairs: **%.2f%%**%n", k, 100 * sumErr / k));
    Files.createDirectories(out.getParent());
    Files.writeString(out, md.toString());
    System.out.println(md);
  }

  private static Map<String, Precision> uni(List<String> ids, Precision p) {
    Map<String, Precision> m = new LinkedHashMap<>();
    ids.forEach(id -> m.put(id, p));
    return m;
  }

  private static Map<String, Precision> mixed(List<String> ids, Precision... ps) {
    Map<String, Precision> m = new LinkedHashMap<>();
    for (int i = 0; i < ids.size(); i++) {
      m.put(ids.get(i), ps[i % ps.length]);
    }
    return m;
  }
}
