package io.qsync.planner.cost;

import io.qsync.comm.CommConfig;
import io.qsync.comm.ReduceOp;
import io.qsync.comm.TcpRingCommunicator;
import io.qsync.lowprec.ArrayRounding;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.LayerIds;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.PrecisionSwitchable;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.planner.replay.PlanGraph;
import io.qsync.planner.replay.PlanNode;
import io.qsync.runtime.TrainableNetwork;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.DoubleSupplier;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Measures a {@link DeviceProfile} of the local device for one network and batch size (CPU now, through the
 * nd4j-lowprec layers): every layer's forward and backward time in isolation at FP32, scaled so that they add up to
 * the measured whole {@code computeGradient} (isolated DL4J layer calls without workspaces run slower than inside the
 * network), and for each switchable layer and precision of the menu the difference of the whole step with only that
 * layer switched (split between forward and backward in the FP32 proportion); the optimizer step, cast costs {@code α·n + β} fitted by least squares over five tensor sizes, and the
 * loopback ring all-reduce {@code α + β·bytes} with two in-process ranks. Every number is the median of
 * {@code repeats} runs after {@code warmup} runs. Call with the native thread count the trainer will use.
 */
public final class Profiler {
  private final int warmup;
  private final int repeats;

  /**
   * @param warmup  unmeasured runs before each measurement
   * @param repeats measured runs (median taken)
   */
  public Profiler(int warmup, int repeats) {
    this.warmup = warmup;
    this.repeats = repeats;
  }

  /**
   * @param name        profile name
   * @param net         initialised network with switchable layers ({@code SwitchableLayers.convert})
   * @param graph       its plan graph
   * @param batch       examples of the local step
   * @param menu        precisions to measure
   * @param globalBatch global batch (the updater divides by it)
   * @return the measured profile
   */
  public DeviceProfile profile(String name, MultiLayerNetwork net, PlanGraph graph, DataSet batch,
                               List<Precision> menu, int globalBatch) {
    int b = batch.numExamples();
    Map<String, Layer> ids = LayerIds.of(net);
    PrecisionPlan.empty().applyTo(net);
    TrainableNetwork tn = TrainableNetwork.of(net);
    double base = median(() -> time(() -> tn.computeGradient(batch)));
    double[][] iso = new double[graph.nodes().size()][];
    double isoSum = 0;
    for (int i = 0; i < iso.length; i++) {
      iso[i] = layerTimes(net, graph.nodes().get(i).id(), Precision.FP32, batch);
      isoSum += iso[i][0] + iso[i][1];
    }
    // isolated calls (no workspaces) are slower than the same layers inside computeGradient: scale them so the
    // FP32 layers add up to the measured whole step (the framework overhead is thereby spread over the layers)
    double kappa = base / isoSum;
    List<LayerMeasurement> ms = new ArrayList<>();
    for (int i = 0; i < iso.length; i++) {
      PlanNode n = graph.nodes().get(i);
      double f32 = kappa * iso[i][0];
      double b32 = kappa * iso[i][1];
      ms.add(new LayerMeasurement(n.signature(), b, Precision.FP32, f32, b32));
      // only nodes the planner may switch (output layers are switchable layers too, but "never quantize" by default)
      if (!n.switchable() || !(ids.get(n.id()) instanceof PrecisionSwitchable)) {
        continue;
      }
      for (Precision p : menu) {
        if (p == Precision.FP32) {
          continue;
        }
        // differential: the whole step with only this layer at p, minus the FP32 step
        new PrecisionPlan(Map.of(n.id(), p)).applyTo(net);
        double delta = median(() -> time(() -> tn.computeGradient(batch))) - base;
        double share = f32 / (f32 + b32);
        ms.add(new LayerMeasurement(n.signature(), b, p, Math.max(0, f32 + delta * share),
            Math.max(0, b32 + delta * (1 - share))));
      }
    }
    PrecisionPlan.empty().applyTo(net);
    double step = base;
    double layerSum = base;
    double opt = median(() -> time(() -> tn.applyUpdate(globalBatch, 0)));
    Map<String, LinearCost> casts = new LinkedHashMap<>();
    for (Precision p : menu) {
      if (p != Precision.FP32) {
        casts.put(DeviceProfile.castKey(Precision.FP32, p), fitCast(p));
      }
    }
    Interconnect link = measureLoopback(4L * graph.totalParams());
    Map<Precision, Double> peaks = new EnumMap<>(Precision.class);
    for (Precision p : menu) {
      double[] rates = ms.stream().filter(m -> m.precision() == p && m.signature().weightCount() > 0)
          .mapToDouble(m -> m.signature().forwardFlops(m.batch()) / Math.max(1e-9, m.forwardSeconds())).toArray();
      if (rates.length > 0) {
        peaks.put(p, medianOf(rates));
      }
    }
    double bw = 8e9;
    return new DeviceProfile(name, false, "Profiler on " + System.getProperty("os.arch") + ", "
        + Runtime.getRuntime().availableProcessors() + " cores, batch " + b, Runtime.getRuntime().maxMemory(), menu,
        CastPolicy.IN_LAYER, new Roofline(peaks, 1.0, bw, 2e-5), ms, casts,
        new LinearCost(opt / graph.totalParams(), 0), Map.of(graph.fingerprint() + "|" + b,
        Math.max(0, step - layerSum)), link);
  }

  /** Forward and backward median seconds of one layer at one precision, fed with the real activations. */
  private double[] layerTimes(MultiLayerNetwork net, String id, Precision p, DataSet batch) {
    new PrecisionPlan(p == Precision.FP32 ? Map.of() : Map.of(id, p)).applyTo(net);
    Map<String, Layer> ids = LayerIds.of(net);
    int i = new ArrayList<>(ids.keySet()).indexOf(id);
    Layer layer = ids.get(id);
    LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
    List<INDArray> acts = net.feedForward(batch.getFeatures(), true);
    INDArray in = acts.get(i).dup();
    InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(i);
    if (pre != null) {
      in = pre.preProcess(in, (int) in.size(0), mgr).dup();
    }
    final INDArray x = in;
    if (layer instanceof IOutputLayer o) {
      o.setLabels(batch.getLabels());
    }
    INDArray out = layer.activate(x, true, mgr);
    INDArray eps = layer instanceof IOutputLayer ? null : Nd4j.rand(out.dataType(), out.shape()).subi(0.5);
    double f = median(() -> time(() -> layer.activate(x, true, mgr)));
    double b = median(() -> {
      layer.activate(x, true, mgr);
      return time(() -> layer.backpropGradient(eps, mgr));
    });
    return new double[] {f, b};
  }

  private LinearCost fitCast(Precision p) {
    int[] sizes = {1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20};
    double[] x = new double[sizes.length];
    double[] y = new double[sizes.length];
    for (int k = 0; k < sizes.length; k++) {
      INDArray a = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, sizes[k]).subi(0.5);
      x[k] = sizes[k];
      y[k] = median(() -> time(() -> {
        if (p == Precision.INT8) {
          Int8Quantizer.QSYNC_DEFAULT.quantizePerTensor(a, 0);
        } else {
          ArrayRounding.rounded(p, a);
        }
      }));
    }
    return LinearCost.fit(x, y);
  }

  /** Two ranks over loopback TCP in this process; fits {@code T(bytes) = a + b·bytes} = 2·latency + bytes/bw. */
  private Interconnect measureLoopback(long gradientBytes) {
    CommConfig cfg = CommConfig.defaults();
    try (TcpRingCommunicator.Endpoint e0 = TcpRingCommunicator.open("127.0.0.1", cfg);
         TcpRingCommunicator.Endpoint e1 = TcpRingCommunicator.open("127.0.0.1", cfg)) {
      List<String> peers = List.of(e0.address(), e1.address());
      CompletableFuture<TcpRingCommunicator> f1 = CompletableFuture.supplyAsync(() -> e1.connect(1, peers, "prof"));
      TcpRingCommunicator c0 = e0.connect(0, peers, "prof");
      TcpRingCommunicator c1 = f1.join();
      long[] sizes = {4, 1 << 14, gradientBytes, 4 * gradientBytes};
      double[] x = new double[sizes.length];
      double[] y = new double[sizes.length];
      for (int k = 0; k < sizes.length; k++) {
        int n = (int) Math.max(1, sizes[k] / 4);
        FloatBuffer a = FloatBuffer.allocate(n);
        FloatBuffer b = FloatBuffer.allocate(n);
        x[k] = 4.0 * n;
        y[k] = median(() -> {
          CompletableFuture<Void> other = CompletableFuture.runAsync(() -> c1.allReduce(b, ReduceOp.SUM));
          double t = time(() -> c0.allReduce(a, ReduceOp.SUM));
          other.join();
          return t;
        });
      }
      LinearCost fit = LinearCost.fit(x, y);
      c0.close();
      c1.close();
      return new Interconnect("loopback TCP ring (measured)", 1 / Math.max(fit.alpha(), 1e-12),
          Math.max(0, fit.beta() / 2));
    }
  }

  private double median(DoubleSupplier run) {
    for (int i = 0; i < warmup; i++) {
      run.getAsDouble();
    }
    double[] t = new double[repeats];
    for (int i = 0; i < repeats; i++) {
      t[i] = run.getAsDouble();
    }
    return medianOf(t);
  }

  private static double medianOf(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static double time(Runnable r) {
    long t0 = System.nanoTime();
    r.run();
    return (System.nanoTime() - t0) / 1e9;
  }
}
