package io.qsync.lowprec.layers;

import io.qsync.lowprec.quant.Int8Quantizer;
import java.util.Collection;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Configuration of a precision-switchable output layer. It <em>is</em> a DL4J {@link OutputLayer}
 * configuration (same parameters {@code W [nIn, nOut]}, {@code b [1, nOut]}, same initializer, loss
 * and activation) with INT8 quantizer settings added ({@link SwitchableLayerConfig}); the runtime
 * precision is set on the instantiated {@link SwitchableOutputImpl}. Only the dense part {@code X·W + b} switches precision;
 * the activation and the loss always run in FP32 as in DL4J.
 *
 * <p>"Never quantize" is the default for output layers: {@link PrecisionPlan#uniform} leaves them at
 * FP32, and only a plan that names the output layer's id (e.g. {@code output_0}) changes it.
 */
public class SwitchableOutputLayer extends OutputLayer implements SwitchableLayerConfig {
    private Int8Quantizer int8Quantizer = Int8Quantizer.QSYNC_DEFAULT;

    /**
     * @param base a built-in configuration
     * @return a switchable configuration with the same settings (QSync INT8 defaults)
     */
    public static SwitchableOutputLayer from(OutputLayer base) {
        return ConfigCopy.copy(base, new SwitchableOutputLayer(), OutputLayer.class);
    }

    /** @return a built-in {@link OutputLayer} configuration with the same settings */
    public OutputLayer toBuiltIn() {
        return ConfigCopy.copy(this, new OutputLayer(), OutputLayer.class);
    }

    @Override
    public Int8Quantizer int8Quantizer() {
        return int8Quantizer;
    }

    @Override
    public void setInt8Quantizer(Int8Quantizer quantizer) {
        this.int8Quantizer = SwitchableLayerConfig.requireSettings(quantizer);
    }

    /** Instantiates a {@link SwitchableOutputImpl} exactly as DL4J instantiates its built-in layer. */
    @Override
    public Layer instantiate(
            NeuralNetConfiguration conf,
            Collection<TrainingListener> trainingListeners,
            int layerIndex,
            INDArray layerParamsView,
            boolean initializeParams,
            DataType networkDataType) {
        LayerValidation.assertNInNOutSet("OutputLayer", getLayerName(), layerIndex, getNIn(), getNOut());
        return LayerFactory.wire(
                new SwitchableOutputImpl(conf, networkDataType),
                this,
                conf,
                trainingListeners,
                layerIndex,
                layerParamsView,
                initializeParams);
    }
}
