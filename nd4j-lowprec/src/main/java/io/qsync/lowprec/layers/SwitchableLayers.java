package io.qsync.lowprec.layers;

import java.util.Map;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Converts networks between DL4J's built-in {@code DenseLayer}/{@code ConvolutionLayer}/{@code OutputLayer}
 * and the precision-switchable layers. Parameter layout is identical, so the converted network gets a
 * copy of the same flat parameter vector (and updater state); all switchable layers start at FP32.
 * Only layers whose configuration class is exactly DL4J's {@code DenseLayer}, {@code ConvolutionLayer}
 * or {@code OutputLayer} are converted (loss layers, RNN/CNN output layers and subclasses stay built-in).
 * A converted output layer still stays at FP32 under {@link PrecisionPlan#uniform}; only a plan entry
 * naming it (e.g. {@code output_0}) changes its precision. The switchable layers of a converted network share one
 * scratch pool ({@link NetworkBuffers}).
 */
public final class SwitchableLayers {
    private SwitchableLayers() {}

    /**
     * @param net initialised network
     * @return an equivalent network with switchable dense/conv/output layers and equal parameters
     */
    public static MultiLayerNetwork convert(MultiLayerNetwork net) {
        return rebuild(net, SwitchableLayers::toSwitchable);
    }

    /**
     * @param net initialised network
     * @return an equivalent network with DL4J's built-in layers and equal parameters
     */
    public static MultiLayerNetwork toBuiltIn(MultiLayerNetwork net) {
        return rebuild(net, SwitchableLayers::toBuiltIn);
    }

    /**
     * @param net initialised graph
     * @return an equivalent graph with switchable dense/conv/output layers and equal parameters
     */
    public static ComputationGraph convert(ComputationGraph net) {
        return rebuild(net, SwitchableLayers::toSwitchable);
    }

    /**
     * @param net initialised graph
     * @return an equivalent graph with DL4J's built-in layers and equal parameters
     */
    public static ComputationGraph toBuiltIn(ComputationGraph net) {
        return rebuild(net, SwitchableLayers::toBuiltIn);
    }

    private static Layer toSwitchable(Layer l) {
        if (l.getClass() == DenseLayer.class) {
            return SwitchableDenseLayer.from((DenseLayer) l);
        }
        if (l.getClass() == ConvolutionLayer.class) {
            return SwitchableConvolutionLayer.from((ConvolutionLayer) l);
        }
        if (l.getClass() == OutputLayer.class) {
            return SwitchableOutputLayer.from((OutputLayer) l);
        }
        return l;
    }

    private static Layer toBuiltIn(Layer l) {
        if (l instanceof SwitchableDenseLayer d) {
            return d.toBuiltIn();
        }
        if (l instanceof SwitchableConvolutionLayer c) {
            return c.toBuiltIn();
        }
        if (l instanceof SwitchableOutputLayer o) {
            return o.toBuiltIn();
        }
        return l;
    }

    private static MultiLayerNetwork rebuild(MultiLayerNetwork net, UnaryOperator<Layer> f) {
        requireInit(net.params());
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations().clone();
        for (NeuralNetConfiguration c : conf.getConfs()) {
            c.setLayer(f.apply(c.getLayer()));
        }
        MultiLayerNetwork out = new MultiLayerNetwork(conf);
        out.init(net.params(), true);
        copyUpdaterState(
                net.getUpdater() == null ? null : net.getUpdater().getStateViewArray(),
                out.getUpdater() == null ? null : out.getUpdater().getStateViewArray());
        out.setIterationCount(net.getIterationCount());
        out.setEpochCount(net.getEpochCount());
        NetworkBuffers.shareScratch(out);
        return out;
    }

    private static ComputationGraph rebuild(ComputationGraph net, UnaryOperator<Layer> f) {
        requireInit(net.params());
        ComputationGraphConfiguration conf = net.getConfiguration().clone();
        for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
            if (e.getValue() instanceof LayerVertex lv) {
                lv.getLayerConf().setLayer(f.apply(lv.getLayerConf().getLayer()));
            }
        }
        ComputationGraph out = new ComputationGraph(conf);
        out.init(net.params(), true);
        copyUpdaterState(
                net.getUpdater() == null ? null : net.getUpdater().getStateViewArray(),
                out.getUpdater() == null ? null : out.getUpdater().getStateViewArray());
        out.getConfiguration().setIterationCount(net.getConfiguration().getIterationCount());
        out.getConfiguration().setEpochCount(net.getConfiguration().getEpochCount());
        NetworkBuffers.shareScratch(out);
        return out;
    }

    private static void requireInit(INDArray params) {
        if (params == null) {
            throw new IllegalArgumentException("Network is not initialised; call init() before converting");
        }
    }

    private static void copyUpdaterState(INDArray from, INDArray to) {
        if (from != null && to != null && from.length() == to.length()) {
            to.assign(from);
        }
    }
}
