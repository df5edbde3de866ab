package io.qsync.lowprec.layers;

import io.qsync.lowprec.quant.Int8Quantizer;
import java.util.Collection;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Configuration of a precision-switchable dense layer. It <em>is</em> a DL4J {@link DenseLayer}
 * configuration (same parameters {@code W [nIn, nOut]}, {@code b [1, nOut]}, same initializer and
 * parameter layout) with INT8 quantizer settings added ({@link SwitchableLayerConfig}); the runtime
 * precision is set on the instantiated {@link SwitchableDenseImpl}.
 */
public class SwitchableDenseLayer extends DenseLayer implements SwitchableLayerConfig {
    private Int8Quantizer int8Quantizer = Int8Quantizer.QSYNC_DEFAULT;

    /**
     * @param base a built-in configuration
     * @return a switchable configuration with the same settings (QSync INT8 defaults)
     */
    public static SwitchableDenseLayer from(DenseLayer base) {
        return ConfigCopy.copy(base, new SwitchableDenseLayer(), DenseLayer.class);
    }

    /** @return a built-in {@link DenseLayer} configuration with the same settings */
    public DenseLayer toBuiltIn() {
        return ConfigCopy.copy(this, new DenseLayer(), DenseLayer.class);
    }

    @Override
    public Int8Quantizer int8Quantizer() {
        return int8Quantizer;
    }

    @Override
    public void setInt8Quantizer(Int8Quantizer quantizer) {
        this.int8Quantizer = SwitchableLayerConfig.requireSettings(quantizer);
    }

    /** Instantiates a {@link SwitchableDenseImpl} exactly as DL4J instantiates its built-in layer. */
    @Override
    public Layer instantiate(
            NeuralNetConfiguration conf,
            Collection<TrainingListener> trainingListeners,
            int layerIndex,
            INDArray layerParamsView,
            boolean initializeParams,
            DataType networkDataType) {
        return LayerFactory.wire(
                new SwitchableDenseImpl(conf, networkDataType),
                this,
                conf,
                trainingListeners,
                layerIndex,
                layerParamsView,
                initializeParams);
    }
}
