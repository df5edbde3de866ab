package io.qsync.lowprec.layers;

import io.qsync.lowprec.ArrayAllocator;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.ops.GemmContext;
import io.qsync.lowprec.ops.LowPrecisionGemm;
import org.deeplearning4j.exception.DL4JInvalidInputException;
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
public class SwitchableOutputImpl extends OutputLayer implements PrecisionSwitchable {
    private volatile Precision precision = Precision.FP32;
    private transient GemmContext lastContext;
    private transient long lastSavedBytes;
    private transient ArrayAllocator.Pool pool;

    /**
     * @param conf     layer configuration ({@link SwitchableOutputLayer})
     * @param dataType network data type
     */
    public SwitchableOutputImpl(NeuralNetConfiguration conf, DataType dataType) {
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
        if (p != Precision.FP32 && dataType != DataType.FLOAT) {
            throw new IllegalArgumentException("Low precision emulation needs an FP32 network; layer " + layerId()
                    + " has data type " + dataType);
        }
        this.precision = p;
        lastContext = null;
    }

    @Override
    public long lastSavedBytes() {
        return lastSavedBytes;
    }

    /**
     * Everything this layer holds outside DL4J workspaces right now: its pooled buffers plus the saved context of a
     * training forward pass outside the pool (nothing with the default INT8 quantizer).
     */
    @Override
    public long heldBytes() {
        GemmContext c = lastContext;
        return poolBytes() + (c == null ? 0
                : ForwardCache.unpooledBytes(pool, c.x().codes(), c.w().codes(), c.xBackward(), c.wBackward()));
    }

    @Override
    public long poolBytes() {
        return pool == null ? 0 : pool.heldBytes();
    }

    /** @return the op; training passes reuse this layer's buffers, inference allocates fresh arrays */
    private LowPrecisionGemm op(boolean training) {
        if (training && pool == null) {
            pool = ArrayAllocator.pooled();
        }
        return new LowPrecisionGemm(precision, ((SwitchableOutputLayer) layerConf()).int8Quantizer(),
                training ? pool : ArrayAllocator.FRESH);
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
            throw new DL4JInvalidInputException("Output layer " + layerId() + " expects input [minibatch, " + w.rows()
                    + "], got " + java.util.Arrays.toString(in.shape()));
        }
        long stream = StreamIds.of(getIndex(), getIterationCount(), getEpochCount());
        INDArray ret = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, w.dataType(), in.size(0), w.size(1));
        LowPrecisionGemm op = op(training);
        GemmContext ctx = training ? ForwardCache.detached(() -> op.prepare(in, w, stream, true)) : op.prepare(in, w, stream);
        op.forward(ctx, b, ret);
        lastSavedBytes = ctx.savedBytes();
        lastContext = training ? ctx : null;
        return new Pair<>(ret, ret);
    }

    /** dZ from the FP32 loss, then the low-precision backward GEMMs; returns the gradient and dX (or null). */
    private Pair<Gradient, INDArray> lowPrecisionGradients(boolean withEpsilon, LayerWorkspaceMgr workspaceMgr) {
        INDArray z = preOutput2d(true, workspaceMgr);
        GemmContext ctx = lastContext;
        lastContext = null;
        ILossFunction lossFunction = layerConf().getLossFn();
        INDArray labels2d = getLabels2d(workspaceMgr, ArrayType.BP_WORKING_MEM);
        INDArray delta = lossFunction.computeGradient(labels2d, z, layerConf().getActivationFn(), maskArray);
        INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, true, workspaceMgr);
        INDArray epsNext = withEpsilon ? workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, delta.dataType(),
                new long[] {delta.size(0), w.size(0)}, 'f') : null;
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
        if (precision == Precision.FP32) {
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
        if (precision == Precision.FP32 || input == null || labels == null) {
            return;
        }
        this.gradient = lowPrecisionGradients(false, workspaceMgr).getFirst(); // overwrite with the low-precision dW, db
    }
}
