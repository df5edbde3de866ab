package io.qsync.lowprec.layers;

import io.qsync.lowprec.ArrayAllocator;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.ops.GemmContext;
import io.qsync.lowprec.ops.LowPrecisionGemm;
import org.deeplearning4j.exception.DL4JInvalidInputException;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runtime implementation of {@link SwitchableDenseLayer}: DL4J's own dense layer in FP32 (bitwise
 * identical: the FP32 path <em>is</em> the built-in code), {@link LowPrecisionGemm} otherwise. In low
 * precision a training forward pass keeps its quantized operands and pre-activation (outside
 * workspaces, see {@link ForwardCache}) for the following backprop, as QSync saves them; if the
 * cache does not match, backprop recomputes them (deterministically, same stochastic stream).
 */
public class SwitchableDenseImpl extends DenseLayer implements PrecisionSwitchable {
    private volatile Precision precision = Precision.FP32;
    private transient GemmContext lastContext;
    private transient long lastSavedBytes;
    private transient ArrayAllocator.Pool pool;
    private final transient ForwardCache<GemmContext> cache = new ForwardCache<>();

    /**
     * @param conf     layer configuration ({@link SwitchableDenseLayer})
     * @param dataType network data type
     */
    public SwitchableDenseImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public Precision getPrecision() {
        return precision;
    }

    @Override
    public void setPrecision(Precision p) {
        if (p == null) {
            throw new IllegalArgumentException("precision must not be null for layer " + layerId());
        }
        if (p != Precision.FP32 && hasLayerNorm()) {
            throw new IllegalArgumentException("Dense layer " + layerId() + " uses layer norm, which only runs in FP32;"
                    + " build it with hasLayerNorm(false) or keep it at FP32");
        }
        if (p != Precision.FP32 && dataType != DataType.FLOAT) {
            throw new IllegalArgumentException("Low precision emulation needs an FP32 network; layer " + layerId()
                    + " has data type " + dataType);
        }
        this.precision = p;
        cache.clear();
    }

    /** @return how often backprop reused the training forward pass (for tests) */
    long forwardCacheHits() {
        return cache.hits();
    }

    @Override
    public long lastSavedBytes() {
        return lastSavedBytes;
    }

    /** @return the op; training passes reuse this layer's buffers, inference allocates fresh arrays */
    private LowPrecisionGemm op(boolean training) {
        if (training && pool == null) {
            pool = ArrayAllocator.pooled();
        }
        return new LowPrecisionGemm(precision, ((SwitchableDenseLayer) layerConf()).int8Quantizer(), training ? pool : ArrayAllocator.FRESH);
    }

    /**
     * Everything this layer holds outside DL4J workspaces right now: its pooled buffers ({@link #poolBytes()}: saved
     * operands, im2col and backward temporaries, pre-activation copy, reused every iteration) plus whatever the
     * cached forward pass holds outside the pool (e.g. codes of a per-channel or delayed-scaling quantization).
     */
    @Override
    public long heldBytes() {
        return poolBytes() + cache.unpooledBytes(c -> new INDArray[] {c.x().codes(), c.w().codes(), c.xBackward(), c.wBackward()}, pool);
    }

    @Override
    public long poolBytes() {
        return pool == null ? 0 : pool.heldBytes();
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        LayerTiming.Sink sink = LayerTiming.current();
        if (sink == null) {
            return super.activate(training, workspaceMgr);
        }
        Precision p = precision;
        long c0 = LayerTiming.cpuNow();
        long t0 = System.nanoTime();
        INDArray r = super.activate(training, workspaceMgr);
        long wall = System.nanoTime() - t0;
        sink.record(getIndex(), p, false, wall, LayerTiming.cpuNow() - c0);
        return r;
    }

    @Override
    protected Pair<INDArray, INDArray> preOutputWithPreNorm(boolean training, boolean forBackprop, LayerWorkspaceMgr workspaceMgr) {
        if (precision == Precision.FP32) {
            return super.preOutputWithPreNorm(training, forBackprop, workspaceMgr);
        }
        assertInputSet(forBackprop);
        applyDropOutIfNecessary(training, workspaceMgr);
        INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, training, workspaceMgr);
        INDArray b = hasBias() ? getParamWithNoise(DefaultParamInitializer.BIAS_KEY, training, workspaceMgr) : null;
        INDArray in = this.input.castTo(dataType);
        if (in.rank() != 2 || in.columns() != w.rows()) {
            throw new DL4JInvalidInputException("Dense layer " + layerId() + " expects input [minibatch, " + w.rows()
                    + "], got " + java.util.Arrays.toString(in.shape()));
        }
        long stream = StreamIds.of(getIndex(), getIterationCount(), getEpochCount());
        INDArray ret = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, w.dataType(), in.size(0), w.size(1));
        if (forBackprop) {
            ForwardCache.Entry<GemmContext> hit = cache.take(this.input, stream);
            if (hit != null) {
                ret.assign(hit.preActivation());
                lastContext = hit.context();
                return new Pair<>(ret, ret);
            }
        }
        LowPrecisionGemm op = op(training);
        GemmContext ctx = training ? ForwardCache.detached(() -> op.prepare(in, w, stream, true)) : op.prepare(in, w, stream);
        op.forward(ctx, b, ret);
        lastSavedBytes = ctx.savedBytes();
        lastContext = forBackprop ? ctx : null;
        if (training && !forBackprop) {
            cache.put(this.input, stream, ctx, ret, pool);
        }
        return new Pair<>(ret, ret);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        LayerTiming.Sink sink = LayerTiming.current();
        if (sink == null) {
            return backpropTimed(epsilon, workspaceMgr);
        }
        Precision p = precision;
        long c0 = LayerTiming.cpuNow();
        long t0 = System.nanoTime();
        Pair<Gradient, INDArray> r = backpropTimed(epsilon, workspaceMgr);
        long wall = System.nanoTime() - t0;
        sink.record(getIndex(), p, true, wall, LayerTiming.cpuNow() - c0);
        return r;
    }

    private Pair<Gradient, INDArray> backpropTimed(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        if (precision == Precision.FP32) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        assertInputSet(true);
        INDArray z = preOutputWithPreNorm(true, true, workspaceMgr).getFirst();
        GemmContext ctx = lastContext;
        lastContext = null;
        INDArray delta = layerConf().getActivationFn().backprop(z, epsilon.castTo(dataType)).getFirst();
        if (maskArray != null) {
            applyMask(delta);
        }
        Gradient ret = new DefaultGradient();
        INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, true, workspaceMgr);
        INDArray epsNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, delta.dataType(),
                new long[] {delta.size(0), w.size(0)}, 'f');
        INDArray biasGrad = hasBias() ? gradientViews.get(DefaultParamInitializer.BIAS_KEY) : null;
        INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
        op(true).backward(ctx, delta, epsNext, weightGrad, biasGrad);
        if (biasGrad != null) {
            ret.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGrad);
        }
        ret.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
        weightNoiseParams.clear();
        epsNext = backpropDropOutIfPresent(epsNext);
        return new Pair<>(ret, epsNext);
    }
}
