package io.qsync.backend.cuda;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionSwitchable;
import io.qsync.lowprec.layers.SwitchableConvolutionLayer;
import io.qsync.lowprec.layers.SwitchableDenseLayer;
import io.qsync.lowprec.layers.SwitchableLayerConfig;
import io.qsync.lowprec.layers.SwitchableOutputLayer;
import io.qsync.lowprec.quant.Granularity;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.IntRounding;
import io.qsync.lowprec.train.Act;
import io.qsync.lowprec.train.ConvGeom;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

/**
 * Translates one DL4J layer (configuration + initialized instance) to a {@link Step}, or adds to {@code problems}
 * one line for every unsupported part of it and returns null.
 */
final class LayerTranslator {
    private final List<String> problems;
    private final Function<Precision, String> device;
    private final Map<org.deeplearning4j.nn.api.Layer, String> planIds;

    /**
     * @param device  why the device cannot run a precision, or null where it can
     * @param planIds each switchable layer's id in precision plans ({@link io.qsync.lowprec.layers.LayerIds}), by
     *                identity, for naming it in a precision problem
     */
    LayerTranslator(
            List<String> problems,
            Function<Precision, String> device,
            Map<org.deeplearning4j.nn.api.Layer, String> planIds) {
        this.problems = problems;
        this.device = device;
        this.planIds = planIds;
    }

    private Step fail(String name, Layer l, String what) {
        problems.add("layer '" + name + "' (" + l.getClass().getSimpleName() + "): " + what);
        return null;
    }

    /** The kernel activation for DL4J's, or null (a problem is added) if unsupported. */
    private Act act(String name, Layer l, IActivation a) {
        if (a instanceof ActivationIdentity) {
            return Act.IDENTITY;
        } else if (a instanceof ActivationTanH) {
            return Act.TANH;
        } else if (a instanceof ActivationSigmoid) {
            return Act.SIGMOID;
        } else if (a instanceof ActivationLReLU) {
            return Act.LEAKYRELU;
        } else if (a instanceof ActivationReLU r) {
            if ((r.getMax() == null || r.getMax() == 0)
                    && (r.getThreshold() == null || r.getThreshold() == 0)
                    && (r.getNegativeSlope() == null || r.getNegativeSlope() == 0)) {
                return Act.RELU;
            }
        }
        fail(
                name,
                l,
                "activation " + a + " is not supported (relu, leakyrelu, tanh, sigmoid, identity; softmax only in "
                        + "an output or loss layer)");
        return null;
    }

    private static double alpha(IActivation a) {
        return a instanceof ActivationLReLU l ? l.getAlpha() : 0;
    }

    /** Checks what every trainable layer shares; false if something is unsupported. */
    private boolean common(String name, Layer l, org.deeplearning4j.nn.api.Layer instance) {
        int before = problems.size();
        if (l.getIDropout() != null) {
            fail(name, l, "dropout is not supported");
        }
        if (l.getConstraints() != null && !l.getConstraints().isEmpty()) {
            fail(name, l, "constraints are not supported");
        }
        if (l instanceof BaseLayer b && b.getWeightNoise() != null) {
            fail(name, l, "weight noise is not supported");
        }
        if (instance instanceof PrecisionSwitchable s
                && s.getPrecision() != Precision.FP32
                && !isDense(l)
                && !isConv(l)) {
            fail(name, l, "precision " + s.getPrecision() + " (only dense and convolution layers switch precision)");
        }
        return problems.size() == before;
    }

    private static boolean isDense(Layer l) {
        return l.getClass() == DenseLayer.class || l.getClass() == SwitchableDenseLayer.class;
    }

    private static boolean isConv(Layer l) {
        return l.getClass() == ConvolutionLayer.class || l.getClass() == SwitchableConvolutionLayer.class;
    }

    private static boolean isOutput(Layer l) {
        return l.getClass() == OutputLayer.class || l.getClass() == SwitchableOutputLayer.class;
    }

    /** Offset of a parameter within the flat vector, checking its storage order; -1 if absent. */
    private long offset(String name, Layer l, Map<String, INDArray> table, INDArray flat, String key, char order) {
        INDArray v = table.get(key);
        if (v == null) {
            return -1;
        }
        if (v.rank() > 1 && v.ordering() != order && v.length() > 1 && v.size(0) > 1 && v.size(1) > 1) {
            fail(name, l, "parameter " + key + " is stored in '" + v.ordering() + "' order, expected '" + order + "'");
        }
        return v.offset() - flat.offset();
    }

    /** The planned precision of a dense or convolution layer; FP32 (and a problem) where unsupported. */
    private LayerPrecision precision(String name, Layer l, org.deeplearning4j.nn.api.Layer inst) {
        if (!(inst instanceof PrecisionSwitchable s) || s.getPrecision() == Precision.FP32) {
            return LayerPrecision.FP32;
        }
        Precision p = s.getPrecision();
        Int8Quantizer q = l instanceof SwitchableLayerConfig c ? c.int8Quantizer() : Int8Quantizer.QSYNC_DEFAULT;
        String id = planIds.getOrDefault(inst, name);
        String planned = id.equals(name) ? "" : "plan id '" + id + "': ";
        String why = device.apply(p);
        if (why != null) {
            fail(name, l, planned + "precision " + why);
        } else if (p == Precision.FP8_E5M2) {
            fail(name, l, planned + "precision FP8_E5M2 forward (cuBLASLt has no E5M2 x E5M2 GEMM; plan FP8_E4M3)");
        } else if (p == Precision.INT8
                && isConv(l)
                && (q.granularity() != Granularity.PER_TENSOR || q.rounding() == IntRounding.STOCHASTIC)) {
            fail(
                    name,
                    l,
                    planned + "INT8 " + q
                            + " on a convolution (the CUDA backend quantizes convolutions per tensor with "
                            + "deterministic rounding)");
        }
        return new LayerPrecision(p, q, inst.getIndex());
    }

    Step translate(String name, String input, Shape in, Layer l, org.deeplearning4j.nn.api.Layer inst, INDArray flat) {
        Map<String, INDArray> t = inst.paramTable(false);
        if (isDense(l)) {
            DenseLayer d = (DenseLayer) l;
            Act a = act(name, l, d.getActivationFn());
            if (d.hasLayerNorm()) {
                fail(name, l, "layer normalisation is not supported");
            }
            if (in.image() || in.size() != d.getNIn()) {
                fail(name, l, "expects " + d.getNIn() + " features, gets " + in);
            }
            return a == null | !common(name, l, inst)
                    ? null
                    : new DenseStep(
                            name,
                            input,
                            (int) d.getNIn(),
                            (int) d.getNOut(),
                            offset(name, l, t, flat, "W", 'f'),
                            offset(name, l, t, flat, "b", 'c'),
                            a,
                            alpha(d.getActivationFn()),
                            precision(name, l, inst));
        }
        if (isConv(l)) {
            ConvolutionLayer c = (ConvolutionLayer) l;
            Act a = act(name, l, c.getActivationFn());
            ConvGeom g = geometry(
                    name,
                    l,
                    in,
                    c.getKernelSize(),
                    c.getStride(),
                    c.getPadding(),
                    c.getDilation(),
                    c.getConvolutionMode(),
                    c.getCnn2dDataFormat());
            if (g != null && in.c() != c.getNIn()) {
                fail(name, l, "expects " + c.getNIn() + " channels, gets " + in);
            }
            return a == null | g == null | !common(name, l, inst)
                    ? null
                    : new ConvStep(
                            name,
                            input,
                            g,
                            (int) c.getNOut(),
                            offset(name, l, t, flat, "W", 'c'),
                            offset(name, l, t, flat, "b", 'c'),
                            a,
                            alpha(c.getActivationFn()),
                            precision(name, l, inst));
        }
        if (l.getClass() == SubsamplingLayer.class) {
            SubsamplingLayer s = (SubsamplingLayer) l;
            ConvGeom g = geometry(
                    name,
                    l,
                    in,
                    s.getKernelSize(),
                    s.getStride(),
                    s.getPadding(),
                    s.getDilation(),
                    s.getConvolutionMode(),
                    s.getCnn2dDataFormat());
            boolean max = s.getPoolingType() == PoolingType.MAX;
            if (!max && s.getPoolingType() != PoolingType.AVG) {
                return fail(name, l, "pooling type " + s.getPoolingType() + " is not supported (MAX, AVG)");
            }
            if (g != null
                    && !max
                    && (g.padTop() > 0
                            || g.padLeft() > 0
                            || (g.oh() - 1) * g.sh() + g.kh() > g.h()
                            || (g.ow() - 1) * g.sw() + g.kw() > g.w())) {
                return fail(name, l, "average pooling with padding is not supported");
            }
            return g == null || !common(name, l, inst) ? null : new PoolStep(name, input, in, g, max);
        }
        if (l.getClass() == GlobalPoolingLayer.class) {
            GlobalPoolingLayer gp = (GlobalPoolingLayer) l;
            boolean max = gp.getPoolingType() == PoolingType.MAX;
            if (!max && gp.getPoolingType() != PoolingType.AVG) {
                return fail(name, l, "pooling type " + gp.getPoolingType() + " is not supported (MAX, AVG)");
            }
            if (!in.image() || !gp.isCollapseDimensions()) {
                return fail(
                        name,
                        l,
                        "only global pooling of NCHW images with collapsed dimensions is supported, got " + in);
            }
            return common(name, l, inst) ? new PoolStep(name, input, in, null, max) : null;
        }
        if (l.getClass() == BatchNormalization.class) {
            BatchNormalization b = (BatchNormalization) l;
            if (b.isLockGammaBeta()) {
                return fail(name, l, "lockGammaBeta is not supported");
            }
            if (in.image() && b.getCnn2DFormat() != CNN2DFormat.NCHW) {
                return fail(name, l, "only NCHW data is supported, got " + b.getCnn2DFormat());
            }
            String var = b.isUseLogStd() ? "log10stdev" : "var";
            long[] offs = {
                offset(name, l, t, flat, "gamma", 'c'),
                offset(name, l, t, flat, "beta", 'c'),
                offset(name, l, t, flat, "mean", 'c'),
                offset(name, l, t, flat, var, 'c')
            };
            return common(name, l, inst)
                    ? new BatchNormStep(name, input, in, offs, b.isUseLogStd(), b.getEps(), b.getDecay())
                    : null;
        }
        if (l.getClass() == ActivationLayer.class) {
            ActivationLayer a = (ActivationLayer) l;
            Act act = act(name, l, a.getActivationFn());
            return act == null || !common(name, l, inst)
                    ? null
                    : new ActivationStep(name, input, in, act, alpha(a.getActivationFn()));
        }
        if (isOutput(l) || l.getClass() == LossLayer.class) {
            return output(name, input, in, l, inst, t, flat);
        }
        return fail(name, l, "layer type not supported by the cuda backend");
    }

    private Step output(
            String name,
            String input,
            Shape in,
            Layer l,
            org.deeplearning4j.nn.api.Layer inst,
            Map<String, INDArray> t,
            INDArray flat) {
        BaseOutputLayer o = l instanceof BaseOutputLayer b ? b : null;
        ILossFunction loss = o != null ? o.getLossFn() : ((LossLayer) l).getLossFn();
        IActivation a = ((BaseLayer) l).getActivationFn();
        boolean softmax = loss instanceof LossMCXENT x
                && x.getWeights() == null
                && x.getSoftmaxClipEps() == 1e-10
                && a instanceof ActivationSoftmax;
        boolean mse = loss instanceof LossMSE m && m.getWeights() == null && a instanceof ActivationIdentity;
        if (!softmax && !mse) {
            return fail(
                    name,
                    l,
                    "loss " + loss + " with activation " + a + " is not supported (softmax + MCXENT, "
                            + "identity + MSE)");
        }
        if (in.image()) {
            return fail(name, l, "expects feature vectors, gets images " + in);
        }
        if (!common(name, l, inst)) {
            return null;
        }
        if (o == null) {
            return new LossStep(name, input, in.size(), in.size(), -1, -1, softmax);
        }
        return new LossStep(
                name,
                input,
                (int) o.getNIn(),
                (int) o.getNOut(),
                offset(name, l, t, flat, "W", 'f'),
                offset(name, l, t, flat, "b", 'c'),
                softmax);
    }

    /** DL4J's output size and top/left padding for a window over {@code in}; null (problem added) if unsupported. */
    private ConvGeom geometry(
            String name,
            Layer l,
            Shape in,
            int[] k,
            int[] s,
            int[] p,
            int[] dil,
            ConvolutionMode mode,
            CNN2DFormat format) {
        if (!in.image()) {
            fail(name, l, "expects NCHW images, gets feature vectors of " + in);
            return null;
        }
        if (format != CNN2DFormat.NCHW) {
            fail(name, l, "only NCHW data is supported, got " + format);
            return null;
        }
        if (dil != null && (dil[0] != 1 || dil[1] != 1)) {
            fail(name, l, "dilation " + dil[0] + "x" + dil[1] + " is not supported");
            return null;
        }
        if (mode == ConvolutionMode.Same) {
            int oh = (in.h() + s[0] - 1) / s[0];
            int ow = (in.w() + s[1] - 1) / s[1];
            int pt = Math.max(0, ((oh - 1) * s[0] + k[0] - in.h()) / 2);
            int pl = Math.max(0, ((ow - 1) * s[1] + k[1] - in.w()) / 2);
            return new ConvGeom(in.c(), in.h(), in.w(), k[0], k[1], s[0], s[1], pt, pl, oh, ow);
        }
        if (mode != ConvolutionMode.Truncate && mode != ConvolutionMode.Strict) {
            fail(name, l, "convolution mode " + mode + " is not supported (Truncate, Same)");
            return null;
        }
        int oh = (in.h() + 2 * p[0] - k[0]) / s[0] + 1;
        int ow = (in.w() + 2 * p[1] - k[1]) / s[1] + 1;
        if (oh < 1 || ow < 1) {
            fail(name, l, "window larger than its input " + in);
            return null;
        }
        return new ConvGeom(in.c(), in.h(), in.w(), k[0], k[1], s[0], s[1], p[0], p[1], oh, ow);
    }
}
