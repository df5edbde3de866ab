package io.qsync.lowprec.layers;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.ops.Conv2dGeometry;
import io.qsync.lowprec.ops.ConvContext;
import io.qsync.lowprec.ops.LowPrecisionConv2d;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runtime implementation of {@link SwitchableConvolutionLayer}: DL4J's own convolution layer in FP32
 * (bitwise identical: the FP32 path <em>is</em> the built-in code), {@link LowPrecisionConv2d}
 * otherwise (NCHW internally; NHWC inputs are permuted like DL4J does). A training forward pass keeps
 * its saved operands and pre-activation for the following backprop ({@link ForwardCache}); note the
 * emulation keeps them as FP32 arrays, while {@link #lastSavedBytes()} reports what QSync keeps (the
 * input at the layer's precision, plus the weights). Buffers and precision live in a
 * {@link LowPrecisionState}: saved operands in the layer's own pool, im2col matrices and backward
 * temporaries in the scratch pool it shares with the network's other switchable layers.
 */
public class SwitchableConvolutionImpl extends ConvolutionLayer implements LowPrecisionLayer {
    private final transient LowPrecisionState<ConvContext> state = LowPrecisionState.forConv();

    /**
     * @param conf     layer configuration ({@link SwitchableConvolutionLayer})
     * @param dataType network data type
     */
    public SwitchableConvolutionImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public LowPrecisionState<ConvContext> lowPrecisionState() {
        return state;
    }

    @Override
    public void setPrecision(Precision p) {
        state.setPrecision(p, layerId(), dataType);
    }

    /** @return the op; training passes reuse this layer's buffers, inference allocates fresh arrays */
    private LowPrecisionConv2d op(boolean training) {
        return state.conv(training, ((SwitchableLayerConfig) layerConf()).int8Quantizer());
    }

    private boolean nhwc() {
        return layerConf().getCnn2dDataFormat() == CNN2DFormat.NHWC;
    }

    private Conv2dGeometry geometry(INDArray nchw) {
        int[] dilation = layerConf().getDilation();
        int[] kernel = layerConf().getKernelSize();
        int[] strides = layerConf().getStride();
        int inH = (int) nchw.size(2);
        int inW = (int) nchw.size(3);
        int[] pad;
        int[] outSize;
        if (convolutionMode == ConvolutionMode.Same) {
            outSize = ConvolutionUtils.getOutputSize(
                    nchw, kernel, strides, null, convolutionMode, dilation, CNN2DFormat.NCHW);
            pad = ConvolutionUtils.getSameModeTopLeftPadding(outSize, new int[] {inH, inW}, kernel, strides, dilation);
        } else {
            pad = layerConf().getPadding();
            outSize = ConvolutionUtils.getOutputSize(
                    nchw, kernel, strides, pad, convolutionMode, dilation, CNN2DFormat.NCHW);
        }
        return new Conv2dGeometry(
                kernel[0],
                kernel[1],
                strides[0],
                strides[1],
                pad[0],
                pad[1],
                dilation[0],
                dilation[1],
                convolutionMode == ConvolutionMode.Same,
                inH,
                inW,
                outSize[0],
                outSize[1]);
    }

    /** Low-precision pre-activation in NCHW, plus its saved context (from the cache when backprop follows a training forward). */
    private Pair<INDArray, ConvContext> preOutputLowPrecision(
            boolean training, boolean forBackprop, LayerWorkspaceMgr mgr) {
        INDArray w = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, training, mgr);
        INDArray b = hasBias() ? getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, training, mgr) : null;
        validateInputRank();
        INDArray in = this.input.castTo(dataType);
        if (nhwc()) {
            in = in.permute(0, 3, 1, 2);
        }
        validateInputDepth(w.size(1));
        Conv2dGeometry g = geometry(in);
        long stream = StreamIds.of(getIndex(), getIterationCount(), getEpochCount());
        INDArray out = mgr.createUninitialized(
                ArrayType.ACTIVATIONS, DataType.FLOAT, new long[] {in.size(0) * g.outH() * g.outW(), w.size(0)}, 'f');
        LowPrecisionConv2d op = op(training);
        if (forBackprop) {
            ForwardCache.Entry<ConvContext> hit = state.cache().take(this.input, stream);
            if (hit != null) {
                out.assign(hit.preActivation());
                return new Pair<>(op.toNchw(hit.context(), out), hit.context());
            }
        }
        INDArray nchw = in;
        ConvContext ctx =
                training ? ForwardCache.detached(() -> op.prepare(nchw, w, g, stream)) : op.prepare(nchw, w, g, stream);
        INDArray z = op.forward(ctx, b, out);
        state.recordSaved(ctx.savedBytes());
        if (training && !forBackprop) {
            state.cache().put(this.input, stream, ctx, out, state.allocator(true));
        }
        return new Pair<>(z, ctx);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        return LayerTiming.timed(getIndex(), state.precision(), false, () -> activateTimed(training, workspaceMgr));
    }

    private INDArray activateTimed(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (state.precision() == Precision.FP32) {
            return super.activate(training, workspaceMgr);
        }
        if (input == null) {
            throw new IllegalArgumentException("Cannot perform forward pass with null input " + layerId());
        }
        applyDropOutIfNecessary(training, workspaceMgr);
        INDArray z = preOutputLowPrecision(training, false, workspaceMgr).getFirst();
        if (nhwc()) {
            z = workspaceMgr.dup(ArrayType.ACTIVATIONS, z.permute(0, 2, 3, 1));
        }
        return layerConf().getActivationFn().getActivation(z, training);
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
        INDArray eps = epsilon.castTo(dataType);
        if (nhwc()) {
            eps = eps.permute(0, 3, 1, 2);
        }
        Pair<INDArray, ConvContext> p = preOutputLowPrecision(true, true, workspaceMgr);
        ConvContext ctx = p.getSecond();
        INDArray delta =
                layerConf().getActivationFn().backprop(p.getFirst(), eps).getFirst();
        Conv2dGeometry g = ctx.geometry();
        INDArray epsNextOrig = workspaceMgr.createUninitialized(
                ArrayType.ACTIVATION_GRAD,
                DataType.FLOAT,
                new long[] {ctx.inChannels(), ctx.miniBatch(), g.inH(), g.inW()},
                'c');
        INDArray epsNext = epsNextOrig.permute(1, 0, 2, 3);
        INDArray biasGrad = hasBias() ? gradientViews.get(ConvolutionParamInitializer.BIAS_KEY) : null;
        INDArray weightGrad = gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY);
        op(true).backward(ctx, delta, epsNext, weightGrad, biasGrad);
        Gradient ret = new DefaultGradient();
        if (biasGrad != null) {
            ret.setGradientFor(ConvolutionParamInitializer.BIAS_KEY, biasGrad);
        }
        ret.setGradientFor(ConvolutionParamInitializer.WEIGHT_KEY, weightGrad, 'c');
        weightNoiseParams.clear();
        epsNext = backpropDropOutIfPresent(epsNext);
        if (nhwc()) {
            epsNext = epsNext.permute(0, 2, 3, 1);
        }
        return new Pair<>(ret, epsNext);
    }
}
