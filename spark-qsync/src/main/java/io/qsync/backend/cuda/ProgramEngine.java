package io.qsync.backend.cuda;

import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;
import io.qsync.runtime.HostBatch;
import io.qsync.runtime.LayerClock;
import io.qsync.runtime.Nd4jBuffers;
import io.qsync.runtime.ProfilingSupport;
import io.qsync.runtime.TrainingEngine;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.LongConsumer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
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
    private final BatchStage featureStage;
    private final BatchStage targetStage;
    private final int numOutputs;
    private int iteration;
    private int epoch;
    private boolean closed;
    private final PassReplay passes;
    private StepClock clock;
    private final FloatBuffer hostLoss;
    private final PassTimeline timeline = new PassTimeline();
    private final PassMarks marks = new PassMarks();
    /** The queued upload of {@link #hostGrad} by {@link #applyUpdate}: awaited before the next pass writes it. */
    private TensorOps.Mark gradientUpload = () -> {};

    private ProgramEngine(Program program, TensorOps ops, String backend, Model model, int maxRows, boolean replay) {
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
        hostLoss = ops.hostBuffer("loss", 1);
        hostParams = ops.hostBuffer("parameters", n);
        featureStage = new BatchStage(ops, "batch features", (long) maxRows * program.numFeatures());
        targetStage = new BatchStage(ops, "batch targets", (long) maxRows * numOutputs);
        exec = new Exec(ops, params, grads, maxRows, program.input(), program.shapes());
        ops.upload(Nd4jBuffers.floatView(model.params()), params);
        INDArray s = ModelLayers.updaterState(model);
        if (s != null) {
            ops.upload(Nd4jBuffers.floatView(s), ops.slice(state, 0, s.length()));
        }
        iteration = ModelLayers.iterationCount(model);
        epoch = ModelLayers.epochCount(model);
        passes = new PassReplay(ops, replay);
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

    /** As {@link #open(Model, TensorOps, String, int)}; {@code replay} false runs every pass eagerly (comparisons). */
    public static ProgramEngine open(Model model, TensorOps ops, String backend, int maxRows, boolean replay) {
        return new ProgramEngine(
                ProgramCompiler.compile(model, backend, ops::whyCannotRun), ops, backend, model, maxRows, replay);
    }

    @Override
    public String backendName() {
        return backend;
    }

    @Override
    public String device() {
        return ops.device();
    }

    /** A pass on a zero batch of {@code rows} rows (no update): a batch the device cannot hold fails now, not mid-job. */
    public void takeMemoryFor(int rows) {
        int f = program.numFeatures();
        computeGradient(new HostBatch(rows, f, new float[rows * f], numOutputs, new float[rows * numOutputs]));
    }

    @Override
    public long numParams() {
        return program.numParams();
    }

    private void forward(HostBatch batch, boolean training) {
        program.checkFeatures(batch.numFeatures());
        exec.begin(batch.rows());
        featureStage.upload(batch.features(), exec.out(program.input()));
        for (Step s : program.steps()) {
            s.forward(exec, training);
        }
    }

    @Override
    public double computeGradient(HostBatch batch) {
        return computeGradient(batch, k -> {});
    }

    /**
     * Reports the gradient from its end as the backward pass produces it: after each layer's backward, the part now
     * final is copied to host memory behind the rest of the pass ({@link TensorOps#downloadBehind}, a copy stream on
     * CUDA, recorded into the replayed graph too), and {@code readyFrom} hears of it as soon as it has landed.
     */
    @Override
    public double computeGradient(HostBatch batch, LongConsumer readyFrom) {
        if (!batch.hasTargets() || batch.numTargets() != numOutputs) {
            throw new IllegalArgumentException(
                    "computeGradient needs targets of " + numOutputs + " values per example");
        }
        program.checkFeatures(batch.numFeatures());
        timeline.start();
        gradientUpload.await();
        exec.begin(batch.rows());
        featureStage.upload(batch.features(), exec.out(program.input()));
        Tensor y = ops.slice(labels, 0, (long) batch.rows() * numOutputs);
        targetStage.upload(batch.targets(), y);
        timeline.mark(0);
        StepClock c = clock;
        long n = numParams();
        Runnable pass = () -> {
            exec.clearGradientsWritten();
            List<TensorOps.Mark> copies = new ArrayList<>();
            List<Long> from = new ArrayList<>();
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
                long done = from.isEmpty() ? n : from.get(from.size() - 1);
                long k = i == 0 ? 0 : exec.gradientFinalFrom(n);
                if (k < done) { // this part of the gradient travels to the host behind the rest of the backward
                    copies.add(ops.downloadBehind(
                            ops.slice(grads, k, done - k), hostGrad.duplicate().position((int) k)));
                    from.add(k);
                }
            }
            copies.add(ops.downloadBehind(loss, hostLoss.clear()));
            ops.joinDownloads();
            marks.queued(copies, from);
        };
        if (c != null) {
            pass.run();
        } else {
            marks.ran(batch.rows(), passes.run(batch.rows(), pass));
        }
        timeline.mark(1);
        marks.awaitAll(readyFrom);
        timeline.mark(2);
        double score = hostLoss.get(0) / batch.rows();
        if (program.updater().regularized()) {
            float[] p = new float[(int) numParams()];
            ops.download(params, FloatBuffer.wrap(p));
            score += program.updater().score(p, iteration, epoch);
        }
        return score;
    }

    /** Whether training passes are replayed from a recorded graph, or why not. */
    public String replayState() {
        return passes.state();
    }

    /** Convolutions run direct (e.g. cuDNN) last pass, and {@link TensorOps#directConvolutionState}: for logs. */
    public String convolutionPath() {
        Collection<ConvolutionPath> paths = exec.convolutionPaths().values();
        long direct = paths.stream().filter(ConvolutionPath::direct).count();
        return direct + "/" + paths.size() + " convolutions direct; " + ops.directConvolutionState();
    }

    /** Each convolution layer's path in the latest pass (cuDNN with its algorithms, or im2col), by layer name. */
    public SortedMap<String, String> convolutionPaths() {
        SortedMap<String, String> how = new TreeMap<>();
        exec.convolutionPaths().forEach((layer, path) -> how.put(layer, path.how()));
        return how;
    }

    @Override
    public FloatBuffer gradient() {
        return hostGrad.clear();
    }

    @Override
    public long[][] nonAveragedRanges() {
        return program.nonAveraged();
    }

    /** Uploads the host gradient (queued: the host does not wait for the copy), then updates. */
    @Override
    public void applyUpdate(int globalBatchSize, int epoch) {
        update(globalBatchSize, epoch, true);
    }

    /** Updates from the device gradient, which the pass copied to {@link #gradient()} unchanged: no upload. */
    @Override
    public void applyLocalUpdate(int globalBatchSize, int epoch) {
        update(globalBatchSize, epoch, false);
    }

    private void update(int globalBatchSize, int epoch, boolean upload) {
        this.epoch = epoch;
        timeline.start();
        if (upload) {
            gradientUpload = ops.uploadQueued(hostGrad.clear(), grads);
        }
        timeline.mark(3);
        program.updater().apply(ops, params, grads, state, acc, globalBatchSize, iteration, epoch);
        timeline.mark(4);
        timeline.endStep();
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
        INDArray s = ModelLayers.updaterState(model);
        if (s != null) {
            ops.download(ops.slice(state, 0, s.length()), Nd4jBuffers.floatView(s));
        }
        ModelLayers.setCounts(model, iteration, epoch);
        return model;
    }

    @Override
    public Optional<ProfilingSupport> profiling() {
        return Optional.of(this);
    }

    /** The switchable layers other than output layers (QSync's deny list), as the CPU engine reports them. */
    @Override
    public Map<String, Integer> switchableLayers() {
        return ModelLayers.switchable(model);
    }

    /** Applies the plan to the network's switchable layers and recompiles the program (same parameter layout). */
    @Override
    public void applyPlan(PrecisionPlan plan) {
        if (model instanceof MultiLayerNetwork m) {
            plan.applyTo(m);
        } else {
            plan.applyTo((ComputationGraph) model);
        }
        program = ProgramCompiler.compile(model, backend, ops::whyCannotRun);
        exec.forgetLinears();
        passes.reset();
    }

    @Override
    public String whyCannotRun(io.qsync.lowprec.Precision p) {
        return ops.whyCannotRun(p);
    }

    @Override
    public long deviceMemoryBytes() {
        return ops.deviceMemoryBytes();
    }

    /** Clocked passes run eagerly, others are replayed from a recording where the ops record. */
    @Override
    public boolean clockChangesSteps() {
        return passes.mayReplay();
    }

    /** Times every layer's steps alone on the device while open (passes run eagerly meanwhile). */
    @Override
    public LayerClock startLayerClock(int skip) {
        clock = new StepClock(ops, ModelLayers.indexByName(model), skip, () -> clock = null);
        return clock;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            timeline.log(device());
            passes.close();
            ops.close();
        }
    }
}
