package io.qsync.bench;

import io.qsync.data.FashionMnist;
import io.qsync.data.LabeledImages;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import io.qsync.planner.indicator.Indicator;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.indicator.Indicators;
import io.qsync.planner.stats.ModelStatistics;
import io.qsync.planner.stats.StatisticsCollector;
import io.qsync.runtime.LocalShard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Indicator sensitivity study: how well do GVAR, WVAR and HESS rank the real effect of putting one switchable
 * layer of the Fashion-MNIST demo CNN in INT8 (then FP8_E4M3)?
 *
 * <p>Protocol: pre-train the CNN in FP32 for {@code pretrain} steps (checkpoint); collect statistics on the
 * checkpoint (K = 10 batches, Hutchinson probes) and compute the indicators; then for each seed, continue from
 * the checkpoint for {@code steps} steps with the seed's batch order, once all-FP32 and once per (layer,
 * precision) with only that layer low precision; real effect = eval loss (FP32 inference on held-out test
 * images) minus the FP32 run's, averaged over seeds. Reports Spearman's ρ between each indicator and the
 * real effect, per precision (n = #layers) and pooled over both precisions.
 *
 * <p>Usage: {@code SensitivityStudy [out=benchmarks/results/sensitivity.md] [pretrain=200] [steps=200] [seeds=3]}
 */
public final class SensitivityStudy {
  private static final int BATCH = 64;
  private static final int TRAIN = 12000;
  private static final int EVAL = 2000;
  private static final List<Precision> PRECISIONS = List.of(Precision.INT8, Precision.FP8_E4M3);

  private SensitivityStudy() {}

  /** Runs the study; see the class comment for arguments. */
  public static void main(String[] args) throws Exception {
    Path out = Path.of(args.length > 0 ? args[0] : "benchmarks/results/sensitivity.md");
    int pretrain = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    int steps = args.length > 2 ? Integer.parseInt(args[2]) : 200;
    int seeds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    long t0 = System.nanoTime();
    LocalShard train = FashionMnist.load(FashionMnist.Split.TRAIN).head(TRAIN).toShard();
    LabeledImages testImgs = FashionMnist.load(FashionMnist.Split.TEST).head(EVAL);
    DataSet eval = testImgs.toShard().batch(null, 0, EVAL, 10);

    MultiLayerNetwork base = new MultiLayerNetwork(DemoModels.fashionCnn(42, 1e-3));
    base.init();
    MultiLayerNetwork net = SwitchableLayers.convert(base);
    int[] order = permutation(TRAIN, 1000);
    for (int s = 0; s < pretrain; s++) {
      net.fit(batch(train, order, s));
    }
    INDArray ckptParams = net.params().dup();
    INDArray ckptUpdater = net.getUpdater().getStateViewArray().dup();
    int ckptIter = net.getIterationCount();
    log("pretrained %d steps, eval loss %.4f", pretrain, net.score(eval));

    LayerGraph graph = LayerGraph.of(net);
    List<DataSet> statBatches = new ArrayList<>();
    int[] statOrder = permutation(TRAIN, 2000);
    for (int k = 0; k < StatisticsCollector.DEFAULT_BATCHES; k++) {
      statBatches.add(batch(train, statOrder, k));
    }
    ModelStatistics stats = new StatisticsCollector(32, 1e-3, 7).collect(net, graph, statBatches);
    Map<String, IndicatorTable> tables = new LinkedHashMap<>();
    for (Indicator ind : Indicators.all()) {
      tables.put(ind.name(), ind.compute(stats, graph, PRECISIONS));
    }
    List<String> layers = graph.switchableNodes().stream().map(LayerNode::id).toList();
    log("stats + indicators done");

    Map<String, double[]> gaps = new LinkedHashMap<>();
    double[] fp32Loss = new double[seeds];
    for (int seed = 0; seed < seeds; seed++) {
      int[] o = permutation(TRAIN, 17 + seed);
      fp32Loss[seed] = run(net, ckptParams, ckptUpdater, ckptIter, PrecisionPlan.empty(), train, o, steps, eval);
      for (Precision p : PRECISIONS) {
        for (String id : layers) {
          double loss = run(net, ckptParams, ckptUpdater, ckptIter, PrecisionPlan.empty().with(id, p), train, o,
              steps, eval);
          gaps.computeIfAbsent(id + "@" + p, k -> new double[seeds])[seed] = loss - fp32Loss[seed];
          log("seed %d %s %s gap %.5f", seed, id, p, loss - fp32Loss[seed]);
        }
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    Files.writeString(out, report(args, pretrain, steps, seeds, layers, tables, gaps, fp32Loss, graph, seconds));
    log("wrote %s in %.0f s", out, seconds);
  }

  static double run(MultiLayerNetwork net, INDArray params, INDArray updater, int iter, PrecisionPlan plan,
                    LocalShard train, int[] order, int steps, DataSet eval) {
    net.params().assign(params);
    net.getUpdater().getStateViewArray().assign(updater);
    net.setIterationCount(iter);
    plan.applyTo(net);
    for (int s = 0; s < steps; s++) {
      net.fit(batch(train, order, s));
    }
    PrecisionPlan.empty().applyTo(net);
    return net.score(eval);
  }

  static DataSet batch(LocalShard shard, int[] order, int step) {
    int per = order.length / BATCH;
    int from = (step % per) * BATCH;
    return shard.batch(order, from, from + BATCH, 10);
  }

  static int[] permutation(int n, long seed) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    Random r = new Random(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** Spearman's ρ with average ranks for ties. */
  static double spearman(double[] a, double[] b) {
    double[] ra = ranks(a);
    double[] rb = ranks(b);
    double ma = 0;
    double mb = 0;
    for (int i = 0; i < a.length; i++) {
      ma += ra[i] / a.length;
      mb += rb[i] / a.length;
    }
    double cov = 0;
    double va = 0;
    double vb = 0;
    for (int i = 0; i < a.length; i++) {
      cov += (ra[i] - ma) * (rb[i] - mb);
      va += (ra[i] - ma) * (ra[i] - ma);
      vb += (rb[i] - mb) * (rb[i] - mb);
    }
    return va == 0 || vb == 0 ? Double.NaN : cov / Math.sqrt(va * vb);
  }

  static double[] ranks(double[] x) {
    double[] r = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      int less = 0;
      int eq = 0;
      for (double y : x) {
        less += y < x[i] ? 1 : 0;
        eq += y == x[i] ? 1 : 0;
      }
      r[i] = less + (eq + 1) / 2.0;
    }
    return r;
  }

  private static String report(String[] args, int pretrain, int steps, int seeds, List<String> layers,
                               Map<String, IndicatorTable> tables, Map<String, double[]> gaps, double[] fp32Loss,
                               LayerGraph graph, double seconds) {
    StringBuilder md = new StringBuilder("# Indicator sensitivity study (Fashion-MNIST demo CNN)\n\n");
    md.append("- Machine: ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch"))
        .append(", ").append(Runtime.getRuntime().availableProcessors()).append(" cores visible (shared)\n");
    md.append("- Date: ").append(ZonedDateTime.now()).append("; wall time ").append(String.format("%.0f", seconds))
        .append(" s\n");
    md.append("- JVM: ").append(System.getProperty("java.vm.name")).append(' ')
        .append(System.getProperty("java.version")).append('\n');
    md.append("- Arguments: `").append(String.join(" ", args)).append("` → pretrain ").append(pretrain)
        .append(" FP32 steps, then ").append(steps).append(" steps per run, ").append(seeds).append(" seeds, batch ")
        .append(BATCH).append(", first ").append(TRAIN).append(" training images, eval = FP32 loss on the first ")
        .append(EVAL).append(" test images\n");
    md.append("- Model: DemoModels.fashionCnn(42, 1e-3) converted with SwitchableLayers.convert; L = ")
        .append(graph.maxDepth()).append("; statistics: K = 10 batches of 64, 32 Hutchinson probes, ε = 1e-3\n\n");
    md.append("FP32 eval loss per seed: ");
    for (double l : fp32Loss) {
      md.append(String.format(Locale.ROOT, "%.5f ", l));
    }
    md.append("\n\n## Raw numbers\n\n| layer | depth | precision | gap per seed | mean gap |");
    tables.keySet().forEach(n -> md.append(' ').append(n).append(" ω |"));
    md.append("\n|---|---|---|---|---|");
    tables.keySet().forEach(n -> md.append("---|"));
    md.append('\n');
    for (Precision p : PRECISIONS) {
      for (String id : layers) {
        double[] g = gaps.get(id + "@" + p);
        md.append("| ").append(id).append(" | ").append(graph.node(id).depth()).append(" | ").append(p).append(" | ");
        for (double v : g) {
          md.append(String.format(Locale.ROOT, "%+.5f ", v));
        }
        md.append(String.format(Locale.ROOT, "| %+.5f |", mean(g)));
        for (IndicatorTable t : tables.values()) {
          md.append(String.format(Locale.ROOT, " %.4e |", t.omega(id, p)));
        }
        md.append('\n');
      }
    }
    md.append("\n## Spearman rank correlation with the mean loss gap\n\n| indicator |");
    PRECISIONS.forEach(p -> md.append(' ').append(p).append(" (n=").append(layers.size()).append(") |"));
    md.append(" pooled (n=").append(layers.size() * PRECISIONS.size()).append(") |\n|---|");
    PRECISIONS.forEach(p -> md.append("---|"));
    md.append("---|\n");
    for (Map.Entry<String, IndicatorTable> e : tables.entrySet()) {
      md.append("| ").append(e.getKey()).append(" |");
      List<Double> pw = new ArrayList<>();
      List<Double> pg = new ArrayList<>();
      for (Precision p : PRECISIONS) {
        double[] w = new double[layers.size()];
        double[] g = new double[layers.size()];
        for (int i = 0; i < layers.size(); i++) {
          w[i] = e.getValue().omega(layers.get(i), p);
          g[i] = mean(gaps.get(layers.get(i) + "@" + p));
          pw.add(w[i]);
          pg.add(g[i]);
        }
        md.append(String.format(Locale.ROOT, " %.3f |", spearman(w, g)));
      }
      md.append(String.format(Locale.ROOT, " %.3f |\n", spearman(toArray(pw), toArray(pg))));
    }
    return md.toString();
  }

  private static double[] toArray(List<Double> l) {
    return l.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static double mean(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v / x.length;
    }
    return s;
  }

  private static void log(String fmt, Object... a) {
    System.err.printf(Locale.ROOT, "[sensitivity %tT] " + fmt + "%n", prepend(new java.util.Date(), a));
  }

  private static Object[] prepend(Object first, Object[] rest) {
    Object[] all = new Object[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }
}
