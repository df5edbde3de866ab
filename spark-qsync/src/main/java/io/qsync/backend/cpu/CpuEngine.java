package io.qsync.backend.cpu;

import io.qsync.lowprec.layers.LayerIds;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.PrecisionSwitchable;
import io.qsync.runtime.HostBatch;
import io.qsync.runtime.LayerClock;
import io.qsync.runtime.Nd4jBuffers;
import io.qsync.runtime.ProfilingSupport;
import io.qsync.runtime.TrainingEngine;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.solvers.BaseOptimizer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The CPU backend's engine: a DL4J {@link MultiLayerNetwork} or {@link ComputationGraph} on ND4J's CPU backend,
 * trained by DL4J itself (low-precision layers run as exact emulation). Parameters, gradient and updater state are
 * DL4J's own flat views, so {@link #gradient()} is zero-copy. {@link #computeGradient} followed by
 * {@link #applyUpdate} with the local batch size is exactly one {@code fit(DataSet)} call of DL4J's SGD solver (bit
 * for bit, also where the update runs fused: {@link FusedAdamUpdate}).
 */
public final class CpuEngine implements TrainingEngine, ProfilingSupport {
    private final Model model;
    private final MultiLayerNetwork mln;
    private final ComputationGraph graph;
    private final long[][] nonAveragedRanges;
    private final String device;
    private final FusedAdamUpdate fused;

    private CpuEngine(Model model, String device, boolean fuse) {
        this.model = model;
        this.mln = model instanceof MultiLayerNetwork m ? m : null;
        this.graph = model instanceof ComputationGraph g ? g : null;
        if (mln == null && graph == null) {
            throw new IllegalArgumentException("only MultiLayerNetwork and ComputationGraph are supported, got "
                    + model.getClass().getName());
        }
        this.device = device;
        this.nonAveragedRanges = findNonAveragedRanges();
        this.fused = fuse ? FusedAdamUpdate.of(model).orElse(null) : null;
    }

    /**
     * Wraps an initialized network (trained in place: the engine's parameters are the network's). Where DL4J's update
     * is plain Adam (or NoOp) it runs fused ({@link FusedAdamUpdate}, bitwise the same), otherwise as DL4J runs it.
     */
    public static CpuEngine of(Model model) {
        return new CpuEngine(model, "CPU, " + Nd4j.getEnvironment().maxThreads() + " threads", true);
    }

    /** As {@link #of(Model)}, always with DL4J's own updater (the reference the fused update is tested against). */
    static CpuEngine withDl4jUpdater(Model model) {
        return new CpuEngine(model, "CPU, " + Nd4j.getEnvironment().maxThreads() + " threads", false);
    }

    /** @return true if updates run fused rather than through DL4J's updater */
    boolean fusedUpdate() {
        return fused != null;
    }

    /** The wrapped network (live: it holds the engine's parameters). */
    public Model model() {
        return model;
    }

    @Override
    public String backendName() {
        return CpuBackend.NAME;
    }

    @Override
    public String device() {
        return device;
    }

    /** The flat parameter vector (a live view: writes change the network). */
    public INDArray params() {
        return model.params();
    }

    @Override
    public long numParams() {
        return model.numParams();
    }

    /** The flat gradient view (a live view), filled by {@link #computeGradient}. */
    public INDArray gradientView() {
        return mln != null ? mln.getGradientsViewArray() : graph.getGradientsViewArray();
    }

    @Override
    public FloatBuffer gradient() {
        return Nd4jBuffers.floatView(gradientView());
    }

    @Override
    public double computeGradient(HostBatch batch) {
        return computeGradient(dataSet(batch));
    }

    /** Reports after every layer's backward pass how far the gradient is final ({@link BackwardProbe}). */
    @Override
    public double computeGradient(HostBatch batch, java.util.function.LongConsumer readyFrom) {
        DataSet ds = dataSet(batch);
        return mln != null
                ? BackwardProbe.run(mln, readyFrom, () -> computeGradient(ds))
                : BackwardProbe.run(graph, readyFrom, () -> computeGradient(ds));
    }

    /** {@link #computeGradient(HostBatch)} on a DL4J minibatch. */
    public double computeGradient(DataSet batch) {
        if (mln != null) {
            mln.setInput(batch.getFeatures());
            mln.setLabels(batch.getLabels());
            mln.computeGradientAndScore();
            return mln.score();
        }
        graph.setInputs(batch.getFeatures());
        graph.setLabels(batch.getLabels());
        graph.computeGradientAndScore();
        return graph.score();
    }

    @Override
    public long[][] nonAveragedRanges() {
        return nonAveragedRanges;
    }

    @Override
    public void applyUpdate(int globalBatchSize, int epoch) {
        int iter = BaseOptimizer.getIterationCount(model);
        if (fused != null) {
            fused.apply(model.params(), gradientView(), updaterState(), globalBatchSize, iter, epoch);
        } else {
            Gradient g = mln != null ? mln.gradient() : graph.gradient();
            LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
            if (mln != null) {
                mln.getUpdater().update(mln, g, iter, epoch, globalBatchSize, ws);
            } else {
                graph.getUpdater().update(g, iter, epoch, globalBatchSize, ws);
            }
            INDArray params = model.params();
            INDArray update = g.gradient();
            params.subi(update.reshape(update.length()));
        }
        BaseOptimizer.incrementIterationCount(model, 1);
        BaseOptimizer.applyConstraints(model);
        if (mln != null) {
            mln.clearLayersStates();
        } else {
            graph.clearLayersStates();
        }
    }

    @Override
    public void setEpoch(int epoch) {
        if (mln != null) {
            mln.setEpochCount(epoch);
        } else {
            graph.getConfiguration().setEpochCount(epoch);
        }
    }

    @Override
    public void readParams(FloatBuffer dst) {
        dst.put(Nd4jBuffers.floatView(params()));
    }

    @Override
    public void writeParams(FloatBuffer src) {
        copyInto(src, params(), numParams());
    }

    /** The updater state (e.g. Adam moments) as a live flat view, or null if the updater has no state. */
    public INDArray updaterState() {
        return mln != null
                ? mln.getUpdater().getStateViewArray()
                : graph.getUpdater().getStateViewArray();
    }

    @Override
    public long updaterStateLength() {
        INDArray s = updaterState();
        return s == null ? 0 : s.length();
    }

    @Override
    public void readUpdaterState(FloatBuffer dst) {
        INDArray s = updaterState();
        if (s != null) {
            dst.put(Nd4jBuffers.floatView(s));
        }
    }

    @Override
    public void writeUpdaterState(FloatBuffer src) {
        INDArray s = updaterState();
        if (s != null) {
            copyInto(src, s, s.length());
        }
    }

    @Override
    public long checksum() {
        return Nd4jBuffers.checksum(params());
    }

    @Override
    public float[] output(HostBatch batch) {
        return output(features(batch))
                .castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT)
                .data()
                .asFloat();
    }

    /** Inference (test mode) outputs for {@code features}. */
    public INDArray output(INDArray features) {
        return mln != null ? mln.output(features, false) : graph.outputSingle(false, features);
    }

    @Override
    public Optional<ProfilingSupport> profiling() {
        return Optional.of(this);
    }

    /** The switchable layers other than output layers (the planner never quantizes those: QSync's deny list). */
    @Override
    public Map<String, Integer> switchableLayers() {
        Map<String, Layer> all = mln != null ? LayerIds.of(mln) : LayerIds.of(graph);
        Map<String, Integer> out = new LinkedHashMap<>();
        all.forEach((id, l) -> {
            if (l instanceof PrecisionSwitchable && !(l instanceof org.deeplearning4j.nn.api.layers.IOutputLayer)) {
                out.put(id, l.getIndex());
            }
        });
        return out;
    }

    @Override
    public void applyPlan(PrecisionPlan plan) {
        if (mln != null) {
            plan.applyTo(mln);
        } else {
            plan.applyTo(graph);
        }
    }

    /** Installs a {@link LayerTimeRecorder} as the JVM's layer timing hook (one clock per JVM at a time). */
    @Override
    public LayerClock startLayerClock(int skip) {
        return new LayerTimeRecorder(skip).start();
    }

    @Override
    public Model exportModel() {
        return model;
    }

    /** Nothing to free: ND4J's arrays are reclaimed with the network. */
    @Override
    public void close() {}

    private static DataSet dataSet(HostBatch batch) {
        if (!batch.hasTargets()) {
            throw new IllegalArgumentException("computeGradient needs a batch with targets");
        }
        return new DataSet(
                features(batch), Nd4j.create(batch.targets(), new long[] {batch.rows(), batch.numTargets()}, 'c'));
    }

    private static INDArray features(HostBatch batch) {
        return Nd4j.create(batch.features(), new long[] {batch.rows(), batch.numFeatures()}, 'c');
    }

    private static void copyInto(FloatBuffer src, INDArray target, long n) {
        if (src.remaining() < n) {
            throw new IllegalArgumentException("need " + n + " values, the buffer has " + src.remaining());
        }
        FloatBuffer view = Nd4jBuffers.floatView(target);
        FloatBuffer part = src.duplicate();
        part.limit(part.position() + (int) n);
        view.put(part);
        src.position(src.position() + (int) n);
    }

    private long[][] findNonAveragedRanges() {
        List<long[]> out = new ArrayList<>();
        INDArray flat = model.params();
        Layer[] layers = mln != null ? mln.getLayers() : graph.getLayers();
        for (Layer l : layers) {
            for (Map.Entry<String, INDArray> e : l.paramTable(false).entrySet()) {
                if (!l.updaterDivideByMinibatch(e.getKey())) {
                    long start = e.getValue().offset() - flat.offset();
                    out.add(new long[] {start, start + e.getValue().length()});
                }
            }
        }
        return out.toArray(new long[0][]);
    }
}
