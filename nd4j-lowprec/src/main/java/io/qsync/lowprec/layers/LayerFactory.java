package io.qsync.lowprec.layers;

import java.util.Collection;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Wires a new switchable layer implementation exactly as DL4J's built-in configurations do in {@code instantiate}. */
final class LayerFactory {
    private LayerFactory() {}

    /**
     * @param layer            the new implementation
     * @param config           its layer configuration (provides the parameter initializer)
     * @param conf             the network-level configuration holding {@code config}
     * @param listeners        training listeners
     * @param index            layer index
     * @param paramsView       the layer's view of the flat parameter vector
     * @param initializeParams whether to initialise the parameters
     * @param <T>              implementation type
     * @return {@code layer}, with listeners, index, parameters and configuration set
     */
    static <T extends Layer> T wire(
            T layer,
            org.deeplearning4j.nn.conf.layers.Layer config,
            NeuralNetConfiguration conf,
            Collection<TrainingListener> listeners,
            int index,
            INDArray paramsView,
            boolean initializeParams) {
        layer.setListeners(listeners);
        layer.setIndex(index);
        layer.setParamsViewArray(paramsView);
        layer.setParamTable(config.initializer().init(conf, paramsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }
}
