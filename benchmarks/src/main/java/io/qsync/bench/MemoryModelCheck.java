package io.qsync.bench;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.memory.MemoryModel;
import io.qsync.planner.memory.MemoryPrediction;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.memory.MemoryUseMode;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Memory model vs measurement on the Fashion-MNIST demo CNN: for 3 plans × 2 batch sizes, one fresh child JVM
 * per configuration measures the growth of the process's resident set (JavaCPP {@code Pointer.physicalBytes()},
 * i.e. RSS; ND4J's CPU buffers are not counted by {@code Pointer.totalBytes()} nor by {@code AllocationsTracker})
 * from just before the network is built to the maximum after each of 3 training iterations (heap pre-touched
 * with -Xms = -Xmx, so only native memory grows). Predictions use {@link MemoryModel} with EMULATION accounting;
 * its context term is calibrated once on (all-FP32, smallest batch). DL4J's own memory report (FP32 only; it
 * does not know our precisions) is listed for reference.
 *
 * <p>Usage: {@code MemoryModelCheck [out=benchmarks/results/memory-model.md]}
 */
public final class MemoryModelCheck {
  private static final int[] BATCHES = {256, 1024};

  private MemoryModelCheck() {}

  static Map<String, Map<String, Precision>> plans() {
    Map<String, Map<String, Precision>> p = new LinkedHashMap<>();
    p.put("all FP32", Map.of());
    p.put("conv_1 INT8", Map.of("conv_1", Precision.INT8));
    p.put("all switchable INT8", Map.of("conv_0", Precision.INT8, "conv_1", Precision.INT8,
        "dense_0", Precision.INT8));
    return p;
  }

  /** Parent: spawns one child per configuration; child mode: {@code child <planName> <batch>}. */
  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("child")) {
      child(args[1], Integer.parseInt(args[2]));
      return;
    }
    Path out = Path.of(args.length > 0 ? args[0] : "benchmarks/results/memory-model.md");
    MultiLayerNetwork net = cnn();
    LayerGraph graph = LayerGraph.of(net);
    MemoryModel noContext = new MemoryModel(0, MemoryModel.Accounting.EMULATION);
    Map<String, long[]> measured = new LinkedHashMap<>();
    for (String plan : plans().keySet()) {
      for (int b : BATCHES) {
        measured.put(plan + "@" + b, runChild(plan, b));
      }
    }
    long context = measured.get("all FP32@" + BATCHES[0])[0]
        - noContext.predictBytes(graph, Map.of(), BATCHES[0]).totalBytes();
    MemoryModel model = new MemoryModel(Math.max(0, context), MemoryModel.Accounting.EMULATION);
    MemoryModel device = new MemoryModel(0, MemoryModel.Accounting.DEVICE);
    StringBuilder md = new StringBuilder("# Memory model vs measurement (Fashion-MNIST demo CNN, CPU emulation)\n\n");
    md.append("- Machine: ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch"))
        .append(", ").append(Runtime.getRuntime().availableProcessors()).append(" cores (shared); date ")
        .append(ZonedDateTime.now()).append("; JVM ").append(System.getProperty("java.version")).append('\n');
    md.append("- Measured = max RSS growth (Pointer.physicalBytes) of a fresh child JVM (-Xms=-Xmx=512m, "
        + "AlwaysPreTouch) from before building the network to after each of 3 fit() iterations (DL4J default "
        + "workspaces), after a warm-up net at batch 8.\n");
    md.append(String.format(Locale.ROOT, "- Context term calibrated on (all FP32, B=%d): %.2f MiB%n%n", BATCHES[0],
        context / 1048576.0));
    md.append("| plan | batch | predicted (EMULATION) MiB | measured MiB | error | predicted activations MiB "
        + "| DEVICE-accounting prediction MiB (no context) | DL4J memory report MiB (FP32 only) |\n"
        + "|---|---|---|---|---|---|---|---|\n");
    for (Map.Entry<String, Map<String, Precision>> e : plans().entrySet()) {
      for (int b : BATCHES) {
        MemoryPrediction p = model.predictBytes(graph, e.getValue(), b);
        long m = measured.get(e.getKey() + "@" + b)[0];
        md.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.2f | %+.1f%% | %.2f | %.2f | %.2f |%n",
            e.getKey(), b, p.totalBytes() / 1048576.0, m / 1048576.0, 100.0 * (p.totalBytes() - m) / m,
            p.activationBytes() / 1048576.0, device.predictBytes(graph, e.getValue(), b).totalBytes() / 1048576.0,
            measured.get(e.getKey() + "@" + b)[1] / 1048576.0));
      }
    }
    md.append("\nCommand: `java -cp benchmarks/target/classes:spark-qsync/target/classes:nd4j-lowprec/target/"
        + "classes:<mvn -o -q -pl benchmarks dependency:build-classpath, minus io/qsync jars> "
        + "io.qsync.bench.MemoryModelCheck " + String.join(" ", args) + "` with OMP_NUM_THREADS=1\n");
    Files.writeString(out, md.toString());
    System.err.println(md);
  }

  private static long[] runChild(String plan, int batch) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-cp",
        System.getProperty("java.class.path"), MemoryModelCheck.class.getName(), "child", plan,
        Integer.toString(batch)));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    long[] result = null;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (line.startsWith("RESULT ")) {
          String[] f = line.split(" ");
          result = new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])};
        }
      }
    }
    if (p.waitFor() != 0 || result == null) {
      throw new IllegalStateException("child for " + plan + " @ " + batch + " failed");
    }
    System.err.printf("[memory] %s B=%d measured %.2f MiB%n", plan, batch, result[0] / 1048576.0);
    return result;
  }

  static MultiLayerNetwork cnn() {
    MultiLayerNetwork net = new MultiLayerNetwork(DemoModels.fashionCnn(42, 1e-3));
    net.init();
    return SwitchableLayers.convert(net);
  }

  static DataSet data(int b) {
    INDArray x = Nd4j.rand(DataType.FLOAT, b, 784);
    INDArray y = Nd4j.zeros(DataType.FLOAT, b, 10);
    for (int i = 0; i < b; i++) {
      y.putScalar(i, i % 10, 1f);
    }
    return new DataSet(x, y);
  }

  private static void child(String plan, int batch) throws Exception {
    MultiLayerNetwork warm = cnn();
    PrecisionPlan.empty().with("conv_1", Precision.INT8).applyTo(warm);
    DataSet w = data(8);
    warm.fit(w);
    warm.fit(w);
    warm = null;
    DataSet d = data(batch);
    settle();
    long rss0 = Pointer.physicalBytes();
    MultiLayerNetwork net = cnn();
    new PrecisionPlan(plans().get(plan)).applyTo(net);
    long max = 0;
    for (int i = 0; i < 3; i++) {
      net.fit(d);
      max = Math.max(max, Pointer.physicalBytes() - rss0);
    }
    long report = net.getLayerWiseConfigurations().getMemoryReport(InputType.convolutionalFlat(28, 28, 1))
        .getTotalMemoryBytes(batch, MemoryUseMode.TRAINING, CacheMode.NONE, DataType.FLOAT);
    System.out.println("RESULT " + max + " " + report + " " + net.score());
  }

  private static void settle() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
  }
}
