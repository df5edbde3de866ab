package io.qsync.backend.cuda;

import io.qsync.lowprec.layers.LayerIds;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.PrecisionSwitchable;
import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;
import io.qsync.runtime.HostBatch;
import io.qsync.runtime.LayerClock;
import io.qsync.runtime.Nd4jBuffers;
import io.qsync.runtime.ProfilingSupport;
import io.qsync.runtime.TrainingEngine;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A {@link TrainingEngine} that runs a compiled DL4J network ({@link Program}) on a {@link TensorOps}: parameters,
 * gradient, updater state and activations live where the ops compute (device memory for CUDA); per step the batch
 * goes up and the flat gradient comes down. Initial parameters, updater state and iteration count are the DL4J
 * model's; {@link #exportModel} writes the trained values back into it.
 */
public final class ProgramEngine implements TrainingEngine, ProfilingSupport {
    private Program program;
    private final TensorOps ops;
    private final String backend;
    private final Model model;
    private final Exec exec;
    private final Tensor params;
    private final Tensor grads;
    private final Tensor state;
    private final Tensor labels;
    private final Tensor loss;
    private final Tensor acc;
    private final FloatBuffer hostGrad;
    private final FloatBuffer hostParams;
    private final FloatBuffer stage;
    private final int numOutputs;
    private int iteration;
    private int epoch;
    private boolean closed;
    private boolean replays;
    private TensorOps.Replay replay;
    private int replayRows = -1;
    private int eagerRows = -1;
    private String replayOffWhy;
    private StepClock clock;

    private ProgramEngine(Program program, TensorOps ops, String backend, Model model, int maxRows) {
        this.program = program;
        this.ops = ops;
        this.backend = backend;
        this.model = model;
        this.numOutputs = program.loss().out().size();
        long n = program.numParams();
        params = ops.allocate("parameters", n);
        grads = ops.allocate("gradient", n);
        state = ops.allocate("updater state", Math.max(1, program.updater().stateLength()));
        labels = ops.allocate("labels", (long) maxRows * numOutputs);
        loss = ops.allocate("loss", 1);
        acc = ops.allocate("norm accumulator", 1);
        hostGrad = ops.hostBuffer("gradient", n);
        hostParams = ops.hostBuffer("parameters", n);
        stage = ops.hostBuffer("batch", (long) maxRows * Math.max(program.numFeatures(), numOutputs));
        exec = new Exec(ops, params, grads, maxRows, program.input(), program.shapes());
        ops.upload(Nd4jBuffers.floatView(model.params()), params);
        INDArray s = updater(model).getStateViewArray();
        if (s != null && s.length() > 0) {
            ops.upload(Nd4jBuffers.floatView(s), ops.slice(state, 0, s.length()));
        }
        iteration = model instanceof MultiLayerNetwork m
                ? m.getLayerWiseConfigurations().getIterationCount()
                : ((ComputationGraph) model).getConfiguration().getIterationCount();
        epoch = model instanceof MultiLayerNetwork m
                ? m.getLayerWiseConfigurations().getEpochCount()
                : ((ComputationGraph) model).getConfiguration().getEpochCount();
    }

    /**
     * Compiles {@code model} (an initialized network, which the engine keeps for {@link #exportModel}) and loads it
     * onto {@code ops}.
     *
     * @param backend name in errors and {@link #backendName()}
     * @param maxRows largest batch the engine will see
     * @throws io.qsync.runtime.UnsupportedModelException before any allocation, listing every unsupported part
     */
    public static ProgramEngine open(Model model, TensorOps ops, String backend, int maxRows) {
        return open(model, ops, backend, maxRows, true);
    }

    /**
     * As {@link #open(Model, TensorOps, String, int)}; {@code replay} false runs every pass eagerly (no recorded
     * graph: for comparisons).
     */
    public static ProgramEngine open(Model model, TensorOps ops, String backend, int maxRows, boolean replay) {
        Program p = ProgramCompiler.compile(model, backend);
        ProgramEngine e = new ProgramEngine(p, ops, backend, model, maxRows);
        e.replays = replay;
        e.replayOffWhy = replay ? null : "turned off";
        return e;
    }

    private static BaseMultiLayerUpdater<?> updater(Model model) {
        return model instanceof MultiLayerNetwork m
                ? (BaseMultiLayerUpdater<?>) m.getUpdater()
                : (BaseMultiLayerUpdater<?>) ((ComputationGraph) model).getUpdater();
    }

    @Override
    public String backendName() {
        return backend;
    }

    @Override
    public String device() {
        return ops.device();
    }

    @Override
    public long numParams() {
        return program.numParams();
    }

    private void upload(float[] values, Tensor dst) {
        FloatBuffer b = stage.duplicate();
        b.clear();
        b.put(values);
        b.flip();
        ops.upload(b, dst);
    }

    private void forward(HostBatch batch, boolean training) {
        if (batch.numFeatures() != program.numFeatures()) {
            throw new IllegalArgumentException("batch has " + batch.numFeatures()
                    + " features per example, the network " + "takes " + program.numFeatures());
        }
        exec.begin(batch.rows());
        upload(batch.features(), exec.out(program.input()));
        for (Step s : program.steps()) {
            s.forward(exec, training);
        }
    }

    @Override
    public double computeGradient(HostBatch batch) {
        if (!batch.hasTargets() || batch.numTargets() != numOutputs) {
            throw new IllegalArgumentException(
                    "computeGradient needs targets of " + numOutputs + " values per example");
        }
        if (batch.numFeatures() != program.numFeatures()) {
            throw new IllegalArgumentException("batch has " + batch.numFeatures()
                    + " features per example, the network takes " + program.numFeatures());
        }
        exec.begin(batch.rows());
        upload(batch.features(), exec.out(program.input()));
        Tensor y = ops.slice(labels, 0, (long) batch.rows() * numOutputs);
        upload(batch.targets(), y);
        StepClock c = clock;
        Runnable pass = () -> {
            for (Step s : program.steps()) {
                if (c == null) {
                    s.forward(exec, true);
                } else {
                    c.time(s, false, () -> s.forward(exec, true));
                }
            }
            program.loss().loss(exec, y, loss);
            List<Step> steps = program.steps();
            for (int i = steps.size() - 1; i >= 0; i--) {
                Step s = steps.get(i);
                if (c == null) {
                    s.backward(exec);
                } else {
                    c.time(s, true, () -> s.backward(exec));
                }
            }
        };
        if (c != null) {
            pass.run();
        } else {
            runPass(batch.rows(), pass);
        }
        FloatBuffer l = FloatBuffer.allocate(1);
        ops.download(loss, l);
        ops.download(grads, hostGrad.clear());
        double score = l.get(0) / batch.rows();
        if (program.updater().regularized()) {
            float[] p = new float[(int) numParams()];
            ops.download(params, FloatBuffer.wrap(p));
            score += program.updater().score(p, iteration, epoch);
        }
        return score;
    }

    /**
     * Runs a training pass over {@code rows} examples: eagerly the first time a batch size is seen (buffers are
     * allocated then), recorded as a replayable graph the second time, replayed from then on. If recording fails
     * (ops that cannot record, or a step that cannot be recorded), every later pass runs eagerly.
     */
    private void runPass(int rows, Runnable pass) {
        if (replays && replay != null && replayRows == rows) {
            replay.launch();
            return;
        }
        if (replays && eagerRows == rows) {
            if (replay != null) {
                replay.close();
                replay = null;
            }
            try {
                replay = ops.capture(pass);
            } catch (RuntimeException e) {
                replayOffWhy = e.toString();
            }
            if (replay != null) {
                replayRows = rows;
                replay.launch();
                return;
            }
            replays = false;
            if (replayOffWhy == null) {
                replayOffWhy = "these ops do not record";
            }
        }
        pass.run();
        eagerRows = rows;
    }

    /** Whether training passes are replayed from a recorded graph, or why not. */
    public String replayState() {
        return replay != null && replays ? "replayed (batch " + replayRows + ")" : "eager: " + replayOffWhy;
    }

    @Override
    public FloatBuffer gradient() {
        return hostGrad.clear();
    }

    @Override
    public long[][] nonAveragedRanges() {
        return program.nonAveraged();
    }

    @Override
    public void applyUpdate(int globalBatchSize, int epoch) {
        this.epoch = epoch;
        ops.upload(hostGrad.clear(), grads);
        program.updater().apply(ops, params, grads, state, acc, globalBatchSize, iteration, epoch);
        iteration++;
    }

    @Override
    public void setEpoch(int epoch) {
        this.epoch = epoch;
    }

    @Override
    public void readParams(FloatBuffer dst) {
        ops.download(params, dst);
        dst.position(dst.position() + (int) numParams());
    }

    @Override
    public void writeParams(FloatBuffer src) {
        ops.upload(src, params);
        src.position(src.position() + (int) numParams());
    }

    @Override
    public long updaterStateLength() {
        return program.updater().stateLength();
    }

    @Override
    public void readUpdaterState(FloatBuffer dst) {
        long n = updaterStateLength();
        if (n > 0) {
            ops.download(ops.slice(state, 0, n), dst);
            dst.position(dst.position() + (int) n);
        }
    }

    @Override
    public void writeUpdaterState(FloatBuffer src) {
        long n = updaterStateLength();
        if (n > 0) {
            ops.upload(src, ops.slice(state, 0, n));
            src.position(src.position() + (int) n);
        }
    }

    @Override
    public long checksum() {
        ops.download(params, hostParams.clear());
        return Nd4jBuffers.checksum(hostParams.clear());
    }

    @Override
    public float[] output(HostBatch batch) {
        float[] out = new float[batch.rows() * numOutputs];
        int f = batch.numFeatures();
        for (int r = 0; r < batch.rows(); r += exec.maxRows()) {
            int n = Math.min(exec.maxRows(), batch.rows() - r);
            float[] part = java.util.Arrays.copyOfRange(batch.features(), r * f, (r + n) * f);
            forward(HostBatch.features(n, f, part), false);
            ops.download(
                    exec.out(program.loss().name()),
                    FloatBuffer.wrap(out, r * numOutputs, n * numOutputs).slice());
        }
        return out;
    }

    @Override
    public Model exportModel() {
        ops.download(params, Nd4jBuffers.floatView(model.params()));
        INDArray s = updater(model).getStateViewArray();
        if (s != null && s.length() > 0) {
            ops.download(ops.slice(state, 0, s.length()), Nd4jBuffers.floatView(s));
        }
        if (model instanceof MultiLayerNetwork m) {
            m.getLayerWiseConfigurations().setIterationCount(iteration);
            m.getLayerWiseConfigurations().setEpochCount(epoch);
        } else {
            ((ComputationGraph) model).getConfiguration().setIterationCount(iteration);
            ((ComputationGraph) model).getConfiguration().setEpochCount(epoch);
        }
        return model;
    }

    @Override
    public Optional<ProfilingSupport> profiling() {
        return Optional.of(this);
    }

    /** The switchable layers other than output layers (QSync's deny list), as the CPU engine reports them. */
    @Override
    public Map<String, Integer> switchableLayers() {
        Map<String, Layer> all =
                model instanceof MultiLayerNetwork m ? LayerIds.of(m) : LayerIds.of((ComputationGraph) model);
        Map<String, Integer> out = new LinkedHashMap<>();
        all.forEach((id, l) -> {
            if (l instanceof PrecisionSwitchable && !(l instanceof IOutputLayer)) {
                out.put(id, l.getIndex());
            }
        });
        return out;
    }

    /** Applies the plan to the network's switchable layers and recompiles the program (same parameter layout). */
    @Override
    public void applyPlan(PrecisionPlan plan) {
        if (model instanceof MultiLayerNetwork m) {
            plan.applyTo(m);
        } else {
            plan.applyTo((ComputationGraph) model);
        }
        program = ProgramCompiler.compile(model, backend);
        exec.forgetLinears();
        if (replay != null) {
            replay.close();
            replay = null;
        }
        eagerRows = -1;
    }

    @Override
    public long deviceMemoryBytes() {
        return ops.deviceMemoryBytes();
    }

    /** Times every layer's steps alone on the device while open (passes run eagerly meanwhile). */
    @Override
    public LayerClock startLayerClock(int skip) {
        Map<String, Integer> index = new HashMap<>();
        if (model instanceof MultiLayerNetwork m) {
            for (int i = 0; i < m.getnLayers(); i++) {
                String n = m.getLayerWiseConfigurations().getConf(i).getLayer().getLayerName();
                index.put(n != null ? n : "layer" + i, i);
            }
        } else {
            for (Layer l : ((ComputationGraph) model).getLayers()) {
                index.put(l.conf().getLayer().getLayerName(), l.getIndex());
            }
        }
        clock = new StepClock(ops, index, skip, () -> clock = null);
        return clock;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (replay != null) {
                replay.close();
            }
            ops.close();
        }
    }
}
