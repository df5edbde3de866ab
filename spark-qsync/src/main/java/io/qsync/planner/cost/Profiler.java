package io.qsync.planner.cost;

import io.qsync.comm.CommConfig;
import io.qsync.comm.ReduceOp;
import io.qsync.comm.TcpRingCommunicator;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.LayerIds;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.PrecisionSwitchable;
import io.qsync.planner.replay.PlanGraph;
import io.qsync.runtime.TrainableNetwork;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Measures a {@link DeviceProfile} of the local device for one network ({@link MultiLayerNetwork} or
 * {@link ComputationGraph} with switchable layers) and batch size, in the execution context of training: whole
 * steps ({@code computeGradient} + {@code applyUpdate}, workspaces as configured) on a copy of the network, with the
 * switchable layers' {@link io.qsync.lowprec.layers.LayerTiming} hook on. It runs one calibration plan per menu entry
 * (rotations: switchable layer {@code j} at {@code menu[(j+k) mod m]}, so every layer meets every precision),
 * takes the per-layer medians and fits the remainder and scale by least squares over the whole-step medians
 * ({@link StepCalibration}); the loopback ring all-reduce {@code α + β·bytes} is measured with two in-process ranks
 * and added to the remainder. Call with the native thread count the trainer will use.
 */
public final class Profiler {
  private final int warmup;
  private final int repeats;

  /**
   * @param warmup  unmeasured steps per calibration plan
   * @param repeats measured steps per calibration plan (median taken)
   */
  public Profiler(int warmup, int repeats) {
    if (warmup < 0 || repeats < 1) {
      throw new IllegalArgumentException("Profiler needs warmup >= 0 and repeats >= 1, got " + warmup + ", "
          + repeats);
    }
    this.warmup = warmup;
    this.repeats = repeats;
  }

  /**
   * @param name        profile name
   * @param net         initialised network with switchable layers (not modified: a copy is trained)
   * @param graph       its plan graph
   * @param batch       examples of the local step
   * @param menu        precisions to measure
   * @param globalBatch global batch (the updater divides by it)
   * @param workers     ring size of the training the profile is for (for the all-reduce share)
   * @return the measured profile
   */
  public DeviceProfile profile(String name, Model net, PlanGraph graph, DataSet batch, List<Precision> menu,
                               int globalBatch, int workers) {
    long context = contextBytes(net);
    Model copy = net instanceof MultiLayerNetwork m ? m.clone() : ((ComputationGraph) net).clone();
    Map<String, Integer> index = switchableIndex(copy);
    List<String> ids = new ArrayList<>(index.keySet());
    TrainableNetwork tn = TrainableNetwork.of(copy);
    StepCalibration cal = new StepCalibration(graph, index, batch.numExamples());
    for (int k = 0; k < menu.size(); k++) {
        Map<String, Precision> plan = new LinkedHashMap<>();
        for (int j = 0; j < ids.size(); j++) {
          plan.put(ids.get(j), menu.get((j + k) % menu.size()));
        }
        apply(new PrecisionPlan(plan), copy);
        double[] t = new double[repeats];
        try (LayerTimeRecorder rec = new LayerTimeRecorder(warmup).start()) {
          for (int i = 0; i < warmup + repeats; i++) {
            long t0 = System.nanoTime();
            tn.computeGradient(batch);
            tn.applyUpdate(globalBatch, 0);
            if (i >= warmup) {
              t[i - warmup] = (System.nanoTime() - t0) / 1e9;
            }
          }
          cal.addRun(List.of(plan), median(t), rec);
        }
    }
    Interconnect link = measureLoopback(4L * graph.totalParams(), warmup, repeats);
      StepCalibration.Fit fit = cal.fit();
      double collective = link.ringAllReduceSeconds(4.0 * graph.totalParams(), workers)
          + link.ringAllReduceSeconds(4.0, workers);
      StepCalibration.Fit withComm = new StepCalibration.Fit(fit.kappa(), fit.remainderSeconds() + collective,
          fit.rmsRelativeError(), fit.runs());
      return cal.toProfile(name, "Profiler on " + System.getProperty("os.arch") + ", "
          + Runtime.getRuntime().availableProcessors() + " cores, batch " + batch.numExamples()
          + ", in-step layer timing, context measured", withComm, menu, memoryLimit(), link, workers)
          .withContextBytes(context);
  }

  /**
   * The process' context term, measured: its resident bytes (JVM, ND4J and BLAS libraries, heap in use, native
   * pools) before the profiled training starts, less the network's own parameter and updater-state arrays, which
   * the memory model counts.
   *
   * @param net the network about to be profiled
   * @return bytes the model cannot use, at least 0
   */
  public static long contextBytes(Model net) {
    TrainableNetwork tn = TrainableNetwork.of(net);
    long own = 4L * (tn.numParams() + (tn.updaterState() == null ? 0 : tn.updaterState().length()));
    return Math.max(0, Pointer.physicalBytes() - own);
  }

  /** @return the memory this process may use: JavaCPP's physical-bytes cap if set, else the JVM's max heap */
  private static long memoryLimit() {
    long cap = Pointer.maxPhysicalBytes();
    return cap > 0 ? cap : Runtime.getRuntime().maxMemory();
  }

  /**
   * @param model network with switchable layers
   * @return switchable layer id → layer index, in network order
   */
  public static Map<String, Integer> switchableIndex(Model model) {
    Map<String, Layer> all = model instanceof MultiLayerNetwork m ? LayerIds.of(m) : LayerIds.of((ComputationGraph) model);
    Map<String, Integer> out = new LinkedHashMap<>();
    all.forEach((id, l) -> {
      // output layers are switchable too, but the planner never quantizes them (QSync's deny list)
      if (l instanceof PrecisionSwitchable && !(l instanceof org.deeplearning4j.nn.api.layers.IOutputLayer)) {
        out.put(id, l.getIndex());
      }
    });
    return out;
  }

  private static void apply(PrecisionPlan plan, Model m) {
    if (m instanceof MultiLayerNetwork mln) {
      plan.applyTo(mln);
    } else {
      plan.applyTo((ComputationGraph) m);
    }
  }

  /**
   * Two ranks over loopback TCP in this process; fits {@code T(bytes) = a + b·bytes} = 2·latency + bytes/bw.
   *
   * @param gradientBytes gradient size of the model (sizes up to 4× are measured)
   * @param warmup        unmeasured all-reduces per size
   * @param repeats       measured all-reduces per size (median)
   * @return the link
   */
  public static Interconnect measureLoopback(long gradientBytes, int warmup, int repeats) {
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
        double[] t = new double[warmup + repeats];
        for (int i = 0; i < t.length; i++) {
          CompletableFuture<Void> other = CompletableFuture.runAsync(() -> c1.allReduce(b, ReduceOp.SUM));
          long t0 = System.nanoTime();
          c0.allReduce(a, ReduceOp.SUM);
          t[i] = (System.nanoTime() - t0) / 1e9;
          other.join();
        }
        y[k] = median(Arrays.copyOfRange(t, warmup, t.length));
      }
      LinearCost fit = LinearCost.fit(x, y);
      c0.close();
      c1.close();
      return new Interconnect("loopback TCP ring (measured)", 1 / Math.max(fit.alpha(), 1e-12),
          Math.max(0, fit.beta() / 2));
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
