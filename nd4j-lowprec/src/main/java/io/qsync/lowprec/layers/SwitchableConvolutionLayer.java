package io.qsync.lowprec.layers;

import io.qsync.lowprec.quant.Granularity;
import io.qsync.lowprec.quant.Int8Quantizer;
import io.qsync.lowprec.quant.IntRounding;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;
import java.util.Map;

/**
 * Configuration of a precision-switchable 2-D convolution layer. It <em>is</em> a DL4J
 * {@link ConvolutionLayer} configuration (same parameters {@code W [nOut, nIn, kH, kW]},
 * {@code b [1, nOut]}, same initializer and parameter layout) with INT8 quantizer settings added; the runtime precision is set on the
 * instantiated {@link SwitchableConvolutionImpl}.
 */
public class SwitchableConvolutionLayer extends ConvolutionLayer {
    private Granularity int8WeightGranularity = Granularity.PER_TENSOR;
    private IntRounding int8Rounding = IntRounding.TRUNCATE;
    private long int8Seed = 0L;

    /** Creates an unconfigured instance (for JSON deserialization); prefer {@link #from(ConvolutionLayer)}. */
    public SwitchableConvolutionLayer() {
        super();
    }

    /**
     * @param base a built-in convolution layer configuration
     * @return a switchable configuration with the same settings (QSync INT8 defaults)
     */
    public static SwitchableConvolutionLayer from(ConvolutionLayer base) {
        return ConfigCopy.copy(base, new SwitchableConvolutionLayer(), ConvolutionLayer.class);
    }

    /** @return a built-in {@link ConvolutionLayer} configuration with the same settings */
    public ConvolutionLayer toBuiltIn() {
        return ConfigCopy.copy(this, new ConvolutionLayer(), ConvolutionLayer.class);
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

    /** Instantiates a {@link SwitchableConvolutionImpl} exactly as DL4J instantiates its convolution layer. */
    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> trainingListeners,
                             int layerIndex, INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        SwitchableConvolutionImpl ret = new SwitchableConvolutionImpl(conf, networkDataType);
        ret.setListeners(trainingListeners);
        ret.setIndex(layerIndex);
        ret.setParamsViewArray(layerParamsView);
        Map<String, INDArray> paramTable = initializer().init(conf, layerParamsView, initializeParams);
        ret.setParamTable(paramTable);
        ret.setConf(conf);
        return ret;
    }
}
