package io.qsync.lowprec.layers;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.ops.GemmContext;
import io.qsync.lowprec.ops.LowPrecisionGemm;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.OutputLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * Runtime implementation of {@link SwitchableOutputLayer}: DL4J's own output layer in FP32 (bitwise
 * identical: the FP32 path <em>is</em> the built-in code). In low precision the dense part
 * {@code Z = X·W + b} and its backward pass ({@code dX, dW, db} from {@code dZ}) run through
 * {@link LowPrecisionGemm} at the layer's precision, while the activation, the loss, its gradient
 * {@code dZ} and the score are DL4J's FP32 computations on that {@code Z}.
 *
 * <p>As in DL4J's output layer, backprop recomputes {@code Z} from the input (the loss needs it), so
 * there is no forward cache; the operands saved by that recomputation feed the backward GEMMs.
 */
public class SwitchableOutputImpl extends OutputLayer implements LowPrecisionLayer {
    private final transient LowPrecisionState<GemmContext> state = LowPrecisionState.forGemm();

    /**
     * @param conf     layer configuration ({@link SwitchableOutputLayer})
     * @param dataType network data type
     */
    public SwitchableOutputImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public LowPrecisionState<GemmContext> lowPrecisionState() {
        return state;
    }

    @Override
    public void setPrecision(Precision p) {
        state.setPrecision(p, layerId(), dataType);
    }

    /** @return the op; training passes reuse this layer's buffers, inference allocates fresh arrays */
    private LowPrecisionGemm op(boolean training) {
        return state.gemm(training, ((SwitchableLayerConfig) layerConf()).int8Quantizer());
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
        INDArray in = GemmPass.input(this.input, dataType, w, "Output layer " + layerId());
        long stream = StreamIds.of(getIndex(), getIterationCount(), getEpochCount());
        INDArray ret = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, w.dataType(), in.size(0), w.size(1));
        LowPrecisionGemm op = op(training);
        GemmContext ctx = GemmPass.forward(state, op, training, in, w, b, stream, ret);
        state.keepContext(training ? ctx : null);
        return new Pair<>(ret, ret);
    }

    /** dZ from the FP32 loss, then the low-precision backward GEMMs; returns the gradient and dX (or null). */
    private Pair<Gradient, INDArray> lowPrecisionGradients(boolean withEpsilon, LayerWorkspaceMgr workspaceMgr) {
        INDArray z = preOutput2d(true, workspaceMgr);
        GemmContext ctx = state.takeContext();
        ILossFunction lossFunction = layerConf().getLossFn();
        INDArray labels2d = getLabels2d(workspaceMgr, ArrayType.BP_WORKING_MEM);
        INDArray delta = lossFunction.computeGradient(labels2d, z, layerConf().getActivationFn(), maskArray);
        INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, true, workspaceMgr);
        INDArray epsNext = withEpsilon
                ? workspaceMgr.createUninitialized(
                        ArrayType.ACTIVATION_GRAD, delta.dataType(), new long[] {delta.size(0), w.size(0)}, 'f')
                : null;
        INDArray biasGrad = hasBias() ? gradientViews.get(DefaultParamInitializer.BIAS_KEY) : null;
        INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
        op(true).backward(ctx, delta, epsNext, weightGrad, biasGrad);
        Gradient g = new DefaultGradient();
        g.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
        if (biasGrad != null) {
            g.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGrad);
        }
        return new Pair<>(g, epsNext);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        if (state.precision() == Precision.FP32) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        assertInputSet(true);
        Pair<Gradient, INDArray> p = lowPrecisionGradients(true, workspaceMgr);
        // weight-noise parameters are cleared by the network, as for DL4J's output layer
        return new Pair<>(p.getFirst(), backpropDropOutIfPresent(p.getSecond()));
    }

    @Override
    public void computeGradientAndScore(LayerWorkspaceMgr workspaceMgr) {
        super.computeGradientAndScore(workspaceMgr); // score (FP32 loss on the low-precision Z) and the gradient map
        if (state.precision() == Precision.FP32 || input == null || labels == null) {
            return;
        }
        this.gradient =
                lowPrecisionGradients(false, workspaceMgr).getFirst(); // overwrite with the low-precision dW, db
    }
}
