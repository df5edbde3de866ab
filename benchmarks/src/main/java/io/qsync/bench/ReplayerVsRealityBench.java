package io.qsync.bench;

import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.data.LabeledImages;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.cost.Interconnect;
import io.qsync.planner.cost.LayerTimeRecorder;
import io.qsync.planner.cost.Profiler;
import io.qsync.planner.cost.StepCalibration;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.replay.PlanGraph;
import io.qsync.planner.replay.PlanGraphs;
import io.qsync.planner.replay.ReplayResult;
import io.qsync.planner.replay.PredictorMemory;
import io.qsync.planner.replay.Replayer;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Replayer vs reality on 2 workers ({@code local[2]}, TCP ring, 1 native thread each, no shuffle). Calibration runs
 * of the trainer use rotation plans (switchable layer {@code j} at {@code menu[(j+k) mod 6]}, worker 1 three steps
 * further), with the layers' in-step timing hook on; {@link StepCalibration} fits the remainder and scale by least
 * squares over them. The reported plan pairs (uniform and mixed, none of them a calibration plan) are predicted by
 * the {@link Replayer} from the resulting profile and measured by the trainer: median step time over the steps after
 * the warm-up, each pair run once per pass, passes interleaved with calibration runs. Usage:
 * {@code ReplayerVsRealityBench <results.md> [steps=50] [passes=2] [maxLoad=2.5]}.
 */
public final class ReplayerVsRealityBench {
  private static final int GLOBAL = 128;
  private static final int SKIP = 10;
  private static final int CAL_RUNS = 12;
  private static final List<Precision> MENU = List.of(Precision.FP32, Precision.TF32, Precision.BF16, Precision.FP16,
      Precision.FP8_E4M3, Precision.INT8);

  private ReplayerVsRealityBench() {}

  private record Pair(String name, Map<String, Precision> w0, Map<String, Precision> w1) {
    List<Map<String, Precision>> plans() {
      return List.of(w0, w1);
    }
  }

  /** Runs the study. */
  public static void main(String[] args) throws Exception {
    Path out = Path.of(args.length > 0 ? args[0] : "benchmarks/results/replayer.md");
    int steps = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    int passes = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    double maxLoad = args.length > 3 ? Double.parseDouble(args[3]) : 2.5;
    Nd4j.getEnvironment().setMaxThreads(1);
    Nd4j.getEnvironment().setMaxMasterThreads(1);
    Nd4j.factory().blas().setMaxThreads(1);
    LabeledImages data = FashionMnist.load(FashionMnist.Split.TRAIN).head(GLOBAL * steps);
    MultiLayerNetwork base = new MultiLayerNetwork(DemoModels.fashionCnn(1, 1e-3));
    base.init();
    MultiLayerNetwork net = SwitchableLayers.convert(base);
    PlanGraph graph = PlanGraphs.of("fashion-cnn", LayerGraph.of(net));
    Map<String, Integer> index = Profiler.switchableIndex(net);
    List<String> sw = new ArrayList<>(index.keySet());
    List<Pair> val = validationPairs(sw);
    List<Map<String, Precision>> valPlans = new ArrayList<>();
    val.forEach(v -> valPlans.addAll(v.plans()));
    List<Pair> cal = new ArrayList<>();
    for (int k = 0; k < MENU.size(); k++) {
      cal.add(new Pair("rot" + k + " | rot" + ((k + 3) % 6), rot(sw, k), rot(sw, k + 3)));
    }
    java.util.Random rnd = new java.util.Random(20261126);
    while (cal.size() < CAL_RUNS) {
      Map<String, Precision> a = random(sw, rnd);
      Map<String, Precision> b = random(sw, rnd);
      if (!valPlans.contains(a) && !valPlans.contains(b)) {
        cal.add(new Pair("random " + compact(a) + " | " + compact(b), a, b));
      }
    }
    for (Pair v : val) {
      for (Pair c : cal) {
        if (c.plans().contains(v.w0()) || c.plans().contains(v.w1())) {
          throw new IllegalStateException("validation plan " + v.name() + " is also a calibration plan");
        }
      }
    }
    SparkSession spark = SparkSession.builder().master("local[2]").appName("replayer-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .config("spark.kryo.registrator", QSyncKryoRegistrator.class.getName()).getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    ModelSpec spec = ModelSpec.of(base);
    TrainSettings s = TrainSettings.from(Map.of("spark.qsync.numWorkers", "2", "spark.qsync.batchSize",
        Integer.toString(GLOBAL), "spark.qsync.shuffle", "false", "spark.qsync.progress", "false",
        "spark.qsync.checksumEvery", "0", "spark.qsync.threadsPerWorker", "1"));
    Dataset<Row> frame = ImageFrames.toFrame(spark, data, 2).cache();
    StepCalibration calib = new StepCalibration(graph, index, GLOBAL / 2);
    double[][] layerSums = new double[val.size()][passes];
    double[][] shares = new double[val.size()][passes];
    List<Double> calShares = new ArrayList<>();
    double[][] measured = new double[val.size()][passes];
    String[][] loads = new String[val.size()][passes];
    List<String> calRows = new ArrayList<>();
    String loadStart = waitForLoad(maxLoad);
    double runLoad = maxLoad + 2; // our own two busy workers add ~2 to the load average once we run
    try {
      train(spark, frame, spec, s, cal.get(0), new LayerTimeRecorder(SKIP), steps); // JVM / JIT warm-up, discarded
      for (int pass = 0; pass < passes; pass++) {
        for (int i = 0; i < Math.max(cal.size(), val.size()); i++) {
          if (i < cal.size()) {
            String l = waitForLoad(runLoad);
            LayerTimeRecorder rec = new LayerTimeRecorder(SKIP);
            double ms = train(spark, frame, spec, s, cal.get(i), rec, steps);
            calib.addRun(cal.get(i).plans(), ms / 1e3, rec);
            calShares.add(rec.cpuShare());
            calRows.add(String.format("| %d | %s | %s | %.2f | %.2f |", pass + 1, cal.get(i).name(), l, ms,
                rec.cpuShare()));
            System.out.println("calibration " + calRows.get(calRows.size() - 1));
          }
          if (i < val.size()) {
            loads[i][pass] = waitForLoad(runLoad);
            LayerTimeRecorder rec = new LayerTimeRecorder(SKIP);
            measured[i][pass] = train(spark, frame, spec, s, val.get(i), rec, steps);
            layerSums[i][pass] = inRunLayerSum(index, val.get(i), rec);
            shares[i][pass] = rec.cpuShare();
            System.out.printf("validation %s pass %d: %.2f ms (load %s)%n", val.get(i).name(), pass + 1,
                measured[i][pass], loads[i][pass]);
          }
        }
      }
    } finally {
      spark.stop();
    }
    StepCalibration.Fit fit = calib.fit();
    StepCalibration.Fit scaled = calib.fit(true);
    Interconnect link = Profiler.measureLoopback(4L * graph.totalParams(), 3, 9);
    DeviceProfile prof = calib.toProfile("cpu-1t-local2", "trainer calibration, local[2], 1 native thread", fit,
        MENU, Runtime.getRuntime().maxMemory() / 2, link, 2);
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out.resolveSibling("cpu-1t-profile.json"), prof.toJson());
    Replayer r = new Replayer(graph, new PredictorMemory());
    StringBuilder md = header(args, sw, steps, passes, maxLoad, loadStart, fit, scaled);
    md.append("| # | plans (worker 0 \\| worker 1) | load avg (per pass) | CPU share (per pass) | predicted ms "
        + "| measured ms (per pass) | measured ms (median of clean passes) | error | predicted layer sum ms "
        + "| in-run layer sum ms (per pass) |\n|---|---|---|---|---|---|---|---|---|---|\n");
    double sumErr = 0;
    for (int i = 0; i < val.size(); i++) {
      Pair v = val.get(i);
      ReplayResult pred = r.replay(List.of(new WorkerSpec("w0", prof, v.w0(), GLOBAL / 2, 1),
          new WorkerSpec("w1", prof, v.w1(), GLOBAL / 2, 1)));
      double predMs = pred.clusterSeconds() * 1e3;
      double direct = calib.predictSeconds(fit, v.plans()) * 1e3;
      if (Math.abs(direct - predMs) > 0.01 * direct) {
        System.out.printf("note: Replayer %.2f ms vs calibration model %.2f ms for %s%n", predMs, direct, v.name());
      }
      double meas = cleanMedian(measured[i], shares[i]);
      double err = (predMs - meas) / meas;
      sumErr += Math.abs(err);
      md.append(String.format("| %d | %s | %s | %s | %.2f | %s | %.2f | %+.1f%% | %.2f | %s |%n", i + 1, v.name(),
          String.join(", ", loads[i]), join(shares[i]), predMs, join(measured[i]), meas, 100 * err,
          1e3 * Math.max(calib.switchableSeconds(v.w0()), calib.switchableSeconds(v.w1())), join(layerSums[i])));
    }
    md.append(String.format("%nMean absolute error over %d held-out pairs: **%.2f%%**%n", val.size(),
        100 * sumErr / val.size()));
    md.append("\n## Calibration runs (fitted on; not reported above; runs with CPU share < 0.85 left out)\n\n"
        + "| pass | plans | load avg | measured ms | CPU share |\n|---|---|---|---|---|\n").append(String.join("\n", calRows)).append("\n\n## Per-layer in-step costs (ms, "
        + "forward + backward, medians over the calibration runs)\n\n| layer |");
    MENU.forEach(p -> md.append(' ').append(p).append(" |"));
    md.append("\n|---|").append("---|".repeat(MENU.size())).append('\n');
    for (String id : sw) {
      md.append("| ").append(id).append(" |");
      for (Precision p : MENU) {
        md.append(String.format(" %.2f + %.2f |", 1e3 * calib.layerSeconds(id, p, false),
            1e3 * calib.layerSeconds(id, p, true)));
      }
      md.append('\n');
    }
    md.append("\nLoad average at the end: ").append(load()).append('\n');
    Files.writeString(out, md.toString());
    System.out.println(md);
  }

  private static StringBuilder header(String[] args, List<String> sw, int steps, int passes, double maxLoad,
                                      String loadStart, StepCalibration.Fit fit, StepCalibration.Fit scaled) {
    return new StringBuilder("# Replayer vs reality (2 workers, local[2], 1 native thread each)\n\n")
        .append("- Machine: ").append(BenchEnv.machine()).append("\n- Date: ").append(ZonedDateTime.now())
        .append("\n- Command: `benchmarks/run.sh io.qsync.bench.ReplayerVsRealityBench ").append(String.join(" ", args))
        .append("`\n- Model: DemoModels.fashionCnn, switchable ").append(sw).append(", global batch ").append(GLOBAL)
        .append(" (64 per worker), ").append(steps).append(" steps per run (median over the last ")
        .append(steps - SKIP).append("), same data every run, spark.qsync.shuffle=false, checksumEvery=0, ")
        .append(passes).append(" passes; the study waits (up to 10 min) for the 1-minute load average < ")
        .append(maxLoad).append(" before it starts (it was ").append(loadStart).append(") and each run for < ")
        .append(maxLoad + 2).append(" (the study's own two busy workers add about 2); the load column is the ")
        .append("1-minute load average when the run started, including the study itself\n")
        .append("- Method: the switchable layers time themselves inside the trainer's `computeGradient` "
            + "(`LayerTiming` hook, workspaces on, 1 native thread per worker, both workers running as in training). "
            + "12 calibration runs (6 rotation plans: layer j at menu[(j+k) mod 6], worker 1 at k+3; 6 random "
            + "plan pairs, seed 20261126, none equal to a reported plan) give per-layer forward/backward medians per "
            + "precision in varied neighbour and partner contexts; the synchronous step is modelled as `T = R + κ·max_w Σ_l "
            + "c(l, p_w(l))` (SyncStep: both workers compute, then the gradient and loss all-reduces at the slowest "
            + "link, then the updater), κ = 1 (the hook measures wall time inside the step) and R (non-switchable "
            + "layers, loss, updater, batch assembly, all-reduces) the least-squares intercept over the calibration "
            + "runs: ")
        .append(String.format("R = %.2f ms, calibration rms residual %.1f%% over %d runs (diagnostic two-parameter "
            + "fit: R = %.2f ms, κ = %.3f, rms %.1f%%). ", fit.remainderSeconds() * 1e3, 100 * fit.rmsRelativeError(),
            fit.runs(), scaled.remainderSeconds() * 1e3, scaled.kappa(), 100 * scaled.rmsRelativeError()))
        .append("A run counts as disturbed when its layer threads got less than 0.85 of their wall time as CPU time "
            + "(thread CPU time measured by the same hook: another process took the core); disturbed calibration runs "
            + "are left out of the fit, and a pair's measurement is the median over its undisturbed passes (all "
            + "passes if none). ")
        .append("The profile (`cpu-1t-profile.json`) feeds the Replayer, whose prediction is reported for plan pairs "
            + "that were not calibration runs.\n\n");
  }

  private static double train(SparkSession spark, Dataset<Row> frame, ModelSpec spec, TrainSettings s, Pair p,
                              LayerTimeRecorder rec, int steps) {
    rec.start();
    try {
      TrainJob.Result res = TrainJob.train(spark, frame, spec, s,
          TrainOptions.none().withPlans(List.of(new PrecisionPlan(p.w0()), new PrecisionPlan(p.w1()))));
      return res.history().medianStepMillis(SKIP);
    } finally {
      rec.close();
    }
  }

  /** max over the two workers of the summed in-run layer medians (diagnostic: what the run's layers really took) */
  private static double inRunLayerSum(Map<String, Integer> index, Pair p, LayerTimeRecorder rec) {
    double m = 0;
    for (Map<String, Precision> plan : p.plans()) {
      double s = 0;
      for (Map.Entry<String, Integer> e : index.entrySet()) {
        Precision q = plan.getOrDefault(e.getKey(), Precision.FP32);
        s += rec.medianSeconds(e.getValue(), q, false) + rec.medianSeconds(e.getValue(), q, true);
      }
      m = Math.max(m, s);
    }
    return 1e3 * m;
  }

  private static String waitForLoad(double max) throws Exception {
    long until = System.currentTimeMillis() + 600_000;
    String l = load();
    while (Double.parseDouble(l) >= max && System.currentTimeMillis() < until) {
      Thread.sleep(5000);
      l = load();
    }
    return l;
  }

  private static String load() throws Exception {
    return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
  }

  private static List<Pair> validationPairs(List<String> sw) {
    List<Pair> v = new ArrayList<>();
    for (Precision p : MENU) {
      v.add(new Pair("uniform " + p, uni(sw, p), uni(sw, p)));
    }
    v.add(new Pair("FP32 | INT8", uni(sw, Precision.FP32), uni(sw, Precision.INT8)));
    v.add(new Pair("FP16 | FP8", uni(sw, Precision.FP16), uni(sw, Precision.FP8_E4M3)));
    v.add(new Pair("mixed A (INT8,FP16,FP32) | FP32", mixed(sw, Precision.INT8, Precision.FP16, Precision.FP32),
        uni(sw, Precision.FP32)));
    v.add(new Pair("mixed B (FP32,INT8,BF16) | mixed C (FP8,FP32,INT8)",
        mixed(sw, Precision.FP32, Precision.INT8, Precision.BF16),
        mixed(sw, Precision.FP8_E4M3, Precision.FP32, Precision.INT8)));
    v.add(new Pair("mixed D (BF16,BF16,INT8) | BF16", mixed(sw, Precision.BF16, Precision.BF16, Precision.INT8),
        uni(sw, Precision.BF16)));
    v.add(new Pair("INT8 | mixed E (FP16,INT8,FP32)", uni(sw, Precision.INT8),
        mixed(sw, Precision.FP16, Precision.INT8, Precision.FP32)));
    return v;
  }

  private static Map<String, Precision> rot(List<String> ids, int k) {
    Map<String, Precision> m = new LinkedHashMap<>();
    for (int j = 0; j < ids.size(); j++) {
      m.put(ids.get(j), MENU.get((j + k) % MENU.size()));
    }
    return m;
  }

  private static Map<String, Precision> random(List<String> ids, java.util.Random rnd) {
    Map<String, Precision> m = new LinkedHashMap<>();
    ids.forEach(id -> m.put(id, MENU.get(rnd.nextInt(MENU.size()))));
    return m;
  }

  private static String compact(Map<String, Precision> plan) {
    List<String> s = new ArrayList<>();
    plan.values().forEach(p -> s.add(p.name().replace("_E4M3", "")));
    return "(" + String.join(",", s) + ")";
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

  /** median over the passes whose layer threads got ≥ 0.85 of a core (all passes if none did) */
  private static double cleanMedian(double[] v, double[] share) {
    double[] ok = java.util.stream.IntStream.range(0, v.length).filter(i -> share[i] >= 0.85).mapToDouble(i -> v[i])
        .toArray();
    return median(ok.length > 0 ? ok : v);
  }

  private static double median(double[] v) {
    double[] c = v.clone();
    java.util.Arrays.sort(c);
    return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
  }

  private static String join(double[] v) {
    List<String> s = new ArrayList<>();
    for (double d : v) {
      s.add(String.format("%.2f", d));
    }
    return String.join(", ", s);
  }
}
