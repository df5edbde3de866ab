package io.qsync.lowprec.layers;

import io.qsync.lowprec.quant.Granularity;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.IntRounding;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;
import java.util.Map;

/**
 * Configuration of a precision-switchable output layer. It <em>is</em> a DL4J {@link OutputLayer}
 * configuration (same parameters {@code W [nIn, nOut]}, {@code b [1, nOut]}, same initializer, loss
 * and activation) with INT8 quantizer settings added; the runtime precision is set on the
 * instantiated {@link SwitchableOutputImpl}. Only the dense part {@code X·W + b} switches precision;
 * the activation and the loss always run in FP32 as in DL4J.
 *
 * <p>"Never quantize" is the default for output layers: {@link PrecisionPlan#uniform} leaves them at
 * FP32, and only a plan that names the output layer's id (e.g. {@code output_0}) changes it.
 */
public class SwitchableOutputLayer extends OutputLayer {
    private Granularity int8WeightGranularity = Granularity.PER_TENSOR;
    private IntRounding int8Rounding = IntRounding.TRUNCATE;
    private long int8Seed = 0L;

    /** Creates an unconfigured instance (for JSON deserialization); prefer {@link #from(OutputLayer)}. */
    public SwitchableOutputLayer() {
        super();
    }

    /**
     * @param base a built-in output layer configuration
     * @return a switchable configuration with the same settings (QSync INT8 defaults)
     */
    public static SwitchableOutputLayer from(OutputLayer base) {
        return ConfigCopy.copy(base, new SwitchableOutputLayer(), OutputLayer.class);
    }

    /** @return a built-in {@link OutputLayer} configuration with the same settings */
    public OutputLayer toBuiltIn() {
        return ConfigCopy.copy(this, new OutputLayer(), OutputLayer.class);
    }

    /** @return the INT8 quantizer these settings describe */
    public Int8Quantizer int8Quantizer() {
        return new Int8Quantizer(int8WeightGranularity, int8Rounding, int8Seed);
    }

    /** @return INT8 weight-scale granularity */
    public Granularity getInt8WeightGranularity() {
        return int8WeightGranularity;
    }

    /** @param g INT8 weight-scale granularity */
    public void setInt8WeightGranularity(Granularity g) {
        this.int8WeightGranularity = g;
    }

    /** @return INT8 rounding mode */
    public IntRounding getInt8Rounding() {
        return int8Rounding;
    }

    /** @param r INT8 rounding mode */
    public void setInt8Rounding(IntRounding r) {
        this.int8Rounding = r;
    }

    /** @return stochastic-rounding seed */
    public long getInt8Seed() {
        return int8Seed;
    }

    /** @param seed stochastic-rounding seed */
    public void setInt8Seed(long seed) {
        this.int8Seed = seed;
    }

    /** Instantiates a {@link SwitchableOutputImpl} exactly as DL4J instantiates its output layer. */
    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> trainingListeners,
                             int layerIndex, INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        LayerValidation.assertNInNOutSet("OutputLayer", getLayerName(), layerIndex, getNIn(), getNOut());
        SwitchableOutputImpl ret = new SwitchableOutputImpl(conf, networkDataType);
        ret.setListeners(trainingListeners);
        ret.setIndex(layerIndex);
        ret.setParamsViewArray(layerParamsView);
        Map<String, INDArray> paramTable = initializer().init(conf, layerParamsView, initializeParams);
        ret.setParamTable(paramTable);
        ret.setConf(conf);
        return ret;
    }
}
