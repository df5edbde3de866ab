package io.qsync.lowprec.layers;

import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Stable layer ids that {@link PrecisionPlan}s are keyed by.
 *
 * <p><b>MultiLayerNetwork</b>: {@code <kind>_<k>}, where {@code k} counts layers <em>of that kind</em>
 * in layer order starting at 0 (QSync's convention, e.g. {@code conv_0, conv_1, dense_0, output_0}).
 * Kinds: {@code dense} (DL4J {@code DenseLayer} or {@link SwitchableDenseLayer}), {@code conv}
 * ({@code ConvolutionLayer} or {@link SwitchableConvolutionLayer}; subclasses such as depthwise or
 * 1-D convolutions are not counted as {@code conv}), {@code batchnorm}, {@code output} (output and
 * loss layers, including {@link SwitchableOutputLayer}; {@link PrecisionPlan#uniform} leaves them at
 * FP32, a plan entry for their id applies to a switchable one), and for any other layer its configuration class's simple name in lower case
 * (e.g. {@code subsamplinglayer_0}). Ids therefore do not change when a network is converted to or
 * from switchable layers.
 *
 * <p><b>ComputationGraph</b>: the layer vertex names.
 */
public final class LayerIds {
    private LayerIds() {}

    /**
     * @param conf a layer configuration
     * @return its id kind ({@code dense}, {@code conv}, {@code batchnorm}, {@code output}, or the class name)
     */
    public static String kindOf(org.deeplearning4j.nn.conf.layers.Layer conf) {
        Class<?> c = conf.getClass();
        if (c == DenseLayer.class || c == SwitchableDenseLayer.class) {
            return "dense";
        }
        if (c == ConvolutionLayer.class || c == SwitchableConvolutionLayer.class) {
            return "conv";
        }
        if (conf instanceof BatchNormalization) {
            return "batchnorm";
        }
        if (conf instanceof BaseOutputLayer || conf instanceof LossLayer) {
            return "output";
        }
        return c.getSimpleName().toLowerCase(Locale.ROOT);
    }

    /**
     * @param net a network
     * @return id → layer in layer order
     */
    public static Map<String, Layer> of(MultiLayerNetwork net) {
        Map<String, Layer> ids = new LinkedHashMap<>();
        Map<String, Integer> counters = new HashMap<>();
        for (Layer l : net.getLayers()) {
            String kind = kindOf(l.conf().getLayer());
            int k = counters.merge(kind, 1, Integer::sum) - 1;
            ids.put(kind + "_" + k, l);
        }
        return Collections.unmodifiableMap(ids);
    }

    /**
     * @param net a graph
     * @return vertex name → layer, in topological order
     */
    public static Map<String, Layer> of(ComputationGraph net) {
        Map<String, Layer> ids = new LinkedHashMap<>();
        for (Layer l : net.getLayers()) {
            ids.put(l.conf().getLayer().getLayerName(), l);
        }
        return Collections.unmodifiableMap(ids);
    }
}
