package io.qsync.lowprec.layers;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.ops.GemmContext;
import io.qsync.lowprec.ops.LowPrecisionGemm;
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
 * Buffers and precision live in a {@link LowPrecisionState} (saved operands in the layer's own pool,
 * backward temporaries in the scratch pool shared with the network's other switchable layers).
 */
public class SwitchableDenseImpl extends DenseLayer implements LowPrecisionLayer {
    private final transient LowPrecisionState<GemmContext> state = LowPrecisionState.forGemm();

    /**
     * @param conf     layer configuration ({@link SwitchableDenseLayer})
     * @param dataType network data type
     */
    public SwitchableDenseImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public LowPrecisionState<GemmContext> lowPrecisionState() {
        return state;
    }

    @Override
    public void setPrecision(Precision p) {
        if (p != null && p != Precision.FP32 && hasLayerNorm()) {
            throw new IllegalArgumentException("Dense layer " + layerId() + " uses layer norm, which only runs in FP32;"
                    + " build it with hasLayerNorm(false) or keep it at FP32");
        }
        state.setPrecision(p, layerId(), dataType);
    }

    /** @return the op; training passes reuse this layer's buffers, inference allocates fresh arrays */
    private LowPrecisionGemm op(boolean training) {
        return state.gemm(training, ((SwitchableLayerConfig) layerConf()).int8Quantizer());
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        return LayerTiming.timed(getIndex(), state.precision(), false, () -> super.activate(training, workspaceMgr));
    }

    @Override
    protected Pair<INDArray, INDArray> preOutputWithPreNorm(
            boolean training, boolean forBackprop, LayerWorkspaceMgr workspaceMgr) {
        if (state.precision() == Precision.FP32) {
            return super.preOutputWithPreNorm(training, forBackprop, workspaceMgr);
        }
        assertInputSet(forBackprop);
        applyDropOutIfNecessary(training, workspaceMgr);
        INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, training, workspaceMgr);
        INDArray b = hasBias() ? getParamWithNoise(DefaultParamInitializer.BIAS_KEY, training, workspaceMgr) : null;
        INDArray in = GemmPass.input(this.input, dataType, w, "Dense layer " + layerId());
        long stream = StreamIds.of(getIndex(), getIterationCount(), getEpochCount());
        INDArray ret = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, w.dataType(), in.size(0), w.size(1));
        if (forBackprop) {
            ForwardCache.Entry<GemmContext> hit = state.cache().take(this.input, stream);
            if (hit != null) {
                ret.assign(hit.preActivation());
                state.keepContext(hit.context());
                return new Pair<>(ret, ret);
            }
        }
        LowPrecisionGemm op = op(training);
        GemmContext ctx = GemmPass.forward(state, op, training, in, w, b, stream, ret);
        state.keepContext(forBackprop ? ctx : null);
        if (training && !forBackprop) {
            state.cache().put(this.input, stream, ctx, ret, state.allocator(true));
        }
        return new Pair<>(ret, ret);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        return LayerTiming.timed(getIndex(), state.precision(), true, () -> backpropTimed(epsilon, workspaceMgr));
    }

    private Pair<Gradient, INDArray> backpropTimed(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        if (state.precision() == Precision.FP32) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        assertInputSet(true);
        INDArray z = preOutputWithPreNorm(true, true, workspaceMgr).getFirst();
        GemmContext ctx = state.takeContext();
        INDArray delta = layerConf()
                .getActivationFn()
                .backprop(z, epsilon.castTo(dataType))
                .getFirst();
        if (maskArray != null) {
            applyMask(delta);
        }
        Gradient ret = new DefaultGradient();
        INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, true, workspaceMgr);
        INDArray epsNext = workspaceMgr.createUninitialized(
                ArrayType.ACTIVATION_GRAD, delta.dataType(), new long[] {delta.size(0), w.size(0)}, 'f');
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
