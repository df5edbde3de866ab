package io.qsync.profile;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionSwitchable;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import io.qsync.planner.stats.LayerStatistics;
import io.qsync.planner.stats.ModelStatistics;
import io.qsync.planner.stats.WeightQuantization;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Collects {@link ModelStatistics} of every switchable layer over K FP32 minibatches (QSync §4.1), without
 * changing the network (no updater step; parameters and layer precisions are restored).
 *
 * <p>Per minibatch and layer, with v the layer input in a training forward pass and w its weight W:
 * {@code S_v = max|v|/127}, {@code S_w = max|w|/127}, {@code D_v = numel(v)}, {@code D_w = numel(w)},
 * {@code D_vv = numel(output)}, {@code ‖v‖}, {@code ‖w‖} (not squared, as QSync's code). Each is averaged with a
 * plain running mean over all K batches; QSync's running average starts at count 0 and therefore drops the
 * first sample — that is fixed here. Gradients: QSync accumulates {@code loss/10} over the 10 backward passes,
 * i.e. takes the gradient of the mean loss over the profiled batches, then its norm and max-abs; the same is
 * done here (DL4J's per-batch gradient is summed over examples, so it is divided by the batch size first).
 * Also collected (not in QSync): the weight perturbation of every {@link Precision} and a Hutchinson estimate of
 * each layer's loss-Hessian trace ({@link HutchinsonTrace}).
 */
public final class StatisticsCollector {
    /** QSync's {@code profile_iter}: minibatches profiled by default. */
    public static final int DEFAULT_BATCHES = 10;
    /** Default number of Hutchinson probe vectors. */
    public static final int DEFAULT_HUTCHINSON_SAMPLES = 16;
    /** Default finite-difference step of the Hessian-vector products. */
    public static final double DEFAULT_EPSILON = 1e-3;

    private final HutchinsonTrace hutchinson;

    /** A collector with {@link #DEFAULT_HUTCHINSON_SAMPLES} probes, step {@link #DEFAULT_EPSILON}, seed 1. */
    public StatisticsCollector() {
        this(DEFAULT_HUTCHINSON_SAMPLES, DEFAULT_EPSILON, 1L);
    }

    /**
     * @param hutchinsonSamples Hutchinson probe vectors (0 skips the Hessian trace)
     * @param epsilon           finite-difference step along each ±1 probe
     * @param seed              seed of the probe vectors
     */
    public StatisticsCollector(int hutchinsonSamples, double epsilon, long seed) {
        this.hutchinson = new HutchinsonTrace(hutchinsonSamples, epsilon, seed);
    }

    /**
     * @param net     an initialised MultiLayerNetwork or single-input ComputationGraph (precisions are set to FP32
     *                during collection and restored afterwards)
     * @param graph   its layer graph (selects the switchable layers)
     * @param batches the K FP32 minibatches (features and one-hot labels)
     * @return the statistics of every switchable layer
     */
    public ModelStatistics collect(Model net, LayerGraph graph, List<DataSet> batches) {
        if (batches.isEmpty()) {
            throw new IllegalArgumentException("Statistics need at least one minibatch; pass K >= 1 batches");
        }
        NetworkProbe probe = new NetworkProbe(net);
        List<String> ids = new ArrayList<>();
        for (LayerNode n : graph.switchableNodes()) {
            if (!probe.layers().containsKey(n.id())) {
                throw new IllegalArgumentException("Layer graph node '" + n.id() + "' is not a layer of this network ("
                        + probe.layers().keySet() + "); build the graph from the same network");
            }
            ids.add(n.id());
        }
        Map<PrecisionSwitchable, Precision> prev = probe.forceFp32();
        INDArray savedParams = probe.params().dup();
        try {
            Map<String, RunningMean[]> acc = new LinkedHashMap<>();
            Map<String, INDArray> gradSum = new LinkedHashMap<>();
            for (String id : ids) {
                RunningMean[] m = new RunningMean[7];
                for (int k = 0; k < m.length; k++) {
                    m[k] = new RunningMean();
                }
                acc.put(id, m);
            }
            for (DataSet b : batches) {
                Map<String, INDArray> inputs = probe.layerInputs(b.getFeatures());
                for (String id : ids) {
                    accumulate(
                            acc.get(id),
                            inputs.get(id),
                            probe.layers().get(id),
                            b.numExamples(),
                            graph.node(id).outputElements());
                }
                probe.computeGradient(b);
                for (String id : ids) {
                    INDArray g = probe.weightGradient(id)
                            .castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
                            .mul(1.0 / (b.numExamples() * (double) batches.size()));
                    gradSum.merge(id, g, INDArray::addi);
                }
            }
            Map<String, Double> traces = hutchinson.estimate(probe, ids, batches);
            int hutchSamples = traces.isEmpty() ? 0 : hutchinsonSamplesUsed();
            Map<String, LayerStatistics> out = new LinkedHashMap<>();
            for (String id : ids) {
                out.put(
                        id,
                        finish(
                                id,
                                acc.get(id),
                                gradSum.get(id),
                                probe.layers().get(id),
                                batches.size(),
                                traces.getOrDefault(id, 0.0),
                                hutchSamples));
            }
            return new ModelStatistics(batches.size(), batches.get(0).numExamples(), out);
        } finally {
            probe.params().assign(savedParams);
            probe.restore(prev);
        }
    }

    private int hutchinsonSamplesUsed() {
        return hutchinson.samples();
    }

    private static void accumulate(RunningMean[] m, INDArray v, Layer layer, int batch, long outPerExample) {
        INDArray w = layer.getParam("W");
        m[0].add(v.amaxNumber().doubleValue() / 127.0);
        m[1].add(w.amaxNumber().doubleValue() / 127.0);
        m[2].add(v.length());
        m[3].add(w.length());
        m[4].add((double) outPerExample * batch);
        m[5].add(v.norm2Number().doubleValue());
        m[6].add(w.norm2Number().doubleValue());
    }

    private static LayerStatistics finish(
            String id, RunningMean[] m, INDArray grad, Layer layer, int k, double trace, int hutchSamples) {
        INDArray w = layer.getParam("W");
        Map<Precision, WeightQuantization> wq = new EnumMap<>(Precision.class);
        for (Precision p : Precision.values()) {
            wq.put(p, WeightQuantizers.measure(layer.conf().getLayer(), w, p));
        }
        double sumAbs = w.ameanNumber().doubleValue() * w.length();
        return new LayerStatistics(
                id,
                k,
                m[0].mean(),
                m[1].mean(),
                m[2].mean(),
                m[3].mean(),
                m[4].mean(),
                m[5].mean(),
                m[6].mean(),
                grad.norm2Number().doubleValue(),
                grad.amaxNumber().doubleValue(),
                sumAbs,
                wq,
                trace,
                hutchSamples);
    }
}
