package io.qsync.lowprec.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.quant.IntRounding;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Conversion, bitwise FP32 equivalence, layer ids and precision plans. */
class SwitchableLayersTest {

    static MultiLayerNetwork builtInCnn() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42)
                .updater(new Adam(1e-3))
                .weightInit(WeightInit.XAVIER)
                .dataType(DataType.FLOAT)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3)
                        .nOut(4)
                        .activation(Activation.RELU)
                        .build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(2, 2)
                        .stride(2, 2)
                        .build())
                .layer(new ConvolutionLayer.Builder(3, 3)
                        .nOut(6)
                        .padding(1, 1)
                        .activation(Activation.TANH)
                        .build())
                .layer(new DenseLayer.Builder()
                        .nOut(16)
                        .activation(Activation.RELU)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(5)
                        .activation(Activation.SOFTMAX)
                        .build())
                .setInputType(InputType.convolutionalFlat(10, 10, 1))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    static INDArray features() {
        Nd4j.getRandom().setSeed(7);
        return Nd4j.rand(DataType.FLOAT, 8, 100);
    }

    static INDArray labels() {
        INDArray y = Nd4j.zeros(DataType.FLOAT, 8, 5);
        for (int i = 0; i < 8; i++) {
            y.putScalar(i, i % 5, 1f);
        }
        return y;
    }

    private static float[] gradient(MultiLayerNetwork net, INDArray x, INDArray y) {
        net.setInput(x);
        net.setLabels(y);
        net.computeGradientAndScore();
        return net.gradient().gradient().dup().data().asFloat();
    }

    @Test
    void heldBytesCountsCachedForwardPassBetweenForwardAndBackward() {
        MultiLayerNetwork sw = SwitchableLayers.convert(builtInCnn());
        PrecisionPlan.empty().with("dense_0", Precision.INT8).applyTo(sw);
        PrecisionSwitchable dense = (PrecisionSwitchable) sw.getLayer(3);
        long[] held = new long[1];
        sw.addListeners(new org.deeplearning4j.optimize.api.BaseTrainingListener() {
            @Override
            public void onForwardPass(org.deeplearning4j.nn.api.Model m, List<INDArray> activations) {
                held[0] = dense.heldBytes();
            }
        });
        INDArray x = features();
        gradient(sw, x, labels());
        INDArray w = sw.getLayer(3).getParam("W");
        long in = x.size(0) * w.size(0);
        long out = x.size(0) * w.size(1);
        // first iteration, at the forward/backward boundary: pooled codes of input and weights ("x", "w"), their FP16
        // backward copies written in the same pass ("xb", "wb") and the pre-activation copy ("zcache"); the cached
        // context holds nothing outside the pool
        long expected = (2 * in + 2 * w.length() + out) * 4;
        assertEquals(expected, held[0], "FP32 codes and FP16 copies of input and weights plus the pre-activation copy");
        // after backward: + the FP16 output gradient ("g");
        // the pool keeps them for the next iteration, the cache is empty
        assertEquals((2 * in + 2 * w.length() + 2 * out) * 4, dense.heldBytes());
        assertEquals(dense.poolBytes(), dense.heldBytes());
    }

    @Test
    void convPoolHoldsOneBufferPerRole() {
        // layer 2: input 8x4x4x4, 3x3 pad 1, 6 channels: in 512, W 216, im2col 8·16 x 36 = 4608, out 768
        long in = 512, w = 216, col = 4608, out = 768;
        for (Precision p : new Precision[] {Precision.INT8, Precision.FP16, Precision.FP8_E4M3}) {
            MultiLayerNetwork sw = SwitchableLayers.convert(builtInCnn());
            PrecisionSwitchable conv = (PrecisionSwitchable) sw.getLayer(2);
            conv.setPrecision(p);
            gradient(sw, features(), labels());
            // x, w, cols, zcache, dz, g, dcols, colsb (+ xb, wb: FP16 copies of the INT8 operands)
            long operands = (p == Precision.INT8 ? 2 : 1) * (in + w);
            assertEquals((operands + 3 * col + 3 * out) * 4, conv.poolBytes(), p.toString());
            assertEquals(conv.poolBytes(), conv.heldBytes(), p.toString());
        }
    }

    @Test
    void fp32SwitchableNetworkIsBitwiseEqualToBuiltIn() {
        MultiLayerNetwork base = builtInCnn();
        MultiLayerNetwork sw = SwitchableLayers.convert(base);
        assertTrue(sw.getLayer(0) instanceof SwitchableConvolutionImpl);
        assertTrue(sw.getLayer(3) instanceof SwitchableDenseImpl);
        assertTrue(sw.getLayer(4) instanceof SwitchableOutputImpl);
        assertArrayEquals(base.params().data().asFloat(), sw.params().data().asFloat());
        INDArray x = features();
        INDArray y = labels();
        assertArrayEquals(base.output(x).data().asFloat(), sw.output(x).data().asFloat());
        assertArrayEquals(gradient(base, x, y), gradient(sw, x, y));
        assertEquals(Double.doubleToLongBits(base.score()), Double.doubleToLongBits(sw.score()));
        assertEquals(
                Double.doubleToLongBits(base.score(new org.nd4j.linalg.dataset.DataSet(x, y))),
                Double.doubleToLongBits(sw.score(new org.nd4j.linalg.dataset.DataSet(x, y))));
        assertArrayEquals(
                base.scoreExamples(new org.nd4j.linalg.dataset.DataSet(x, y), true)
                        .data()
                        .asFloat(),
                sw.scoreExamples(new org.nd4j.linalg.dataset.DataSet(x, y), true)
                        .data()
                        .asFloat());
        // training steps stay identical
        base.fit(x, y);
        sw.fit(x, y);
        assertArrayEquals(base.params().data().asFloat(), sw.params().data().asFloat());
        MultiLayerNetwork back = SwitchableLayers.toBuiltIn(sw);
        assertEquals(DenseLayer.class, back.getLayer(3).conf().getLayer().getClass());
        assertEquals(OutputLayer.class, back.getLayer(4).conf().getLayer().getClass());
        assertArrayEquals(sw.params().data().asFloat(), back.params().data().asFloat());
    }

    @Test
    void layerIdsAndPlanApplyToLiveNetwork() {
        MultiLayerNetwork sw = SwitchableLayers.convert(builtInCnn());
        assertEquals(
                List.of("conv_0", "subsamplinglayer_0", "conv_1", "dense_0", "output_0"),
                List.copyOf(LayerIds.of(sw).keySet()));
        PrecisionPlan plan = PrecisionPlan.uniform(sw, Precision.INT8).with("conv_0", Precision.FP16);
        assertEquals(
                Map.of("conv_0", Precision.FP16, "conv_1", Precision.INT8, "dense_0", Precision.INT8), plan.layers());
        assertEquals(plan, PrecisionPlan.fromJson(plan.toJson()));
        INDArray x = features();
        INDArray before = sw.output(x);
        INDArray params = sw.params();
        plan.applyTo(sw);
        assertSame(params, sw.params());
        assertEquals(Precision.FP16, ((PrecisionSwitchable) sw.getLayer(0)).getPrecision());
        assertEquals(Precision.INT8, ((PrecisionSwitchable) sw.getLayer(3)).getPrecision());
        INDArray after = sw.output(x);
        assertNotEquals(before, after);
        double rel = after.sub(before).norm2Number().doubleValue()
                / before.norm2Number().doubleValue();
        assertTrue(rel < 0.05, "INT8/FP16 output too far from FP32: " + rel);
        float[] g = gradient(sw, x, labels());
        for (float v : g) {
            assertTrue(Float.isFinite(v));
        }
        assertTrue(((PrecisionSwitchable) sw.getLayer(3)).lastSavedBytes() > 0);
        assertEquals(1, ((SwitchableDenseImpl) sw.getLayer(3)).forwardCacheHits());
        assertEquals(1, ((SwitchableConvolutionImpl) sw.getLayer(2)).forwardCacheHits());
        PrecisionSwitchable conv = (PrecisionSwitchable) sw.getLayer(2);
        assertTrue(conv.poolBytes() > 0);
        assertEquals(conv.poolBytes(), conv.heldBytes(), "backward consumed the cache; the pooled buffers stay");
        PrecisionPlan.empty().applyTo(sw);
        assertArrayEquals(before.data().asFloat(), sw.output(x).data().asFloat());
    }

    @Test
    void planErrorsNameTheProblem() {
        MultiLayerNetwork sw = SwitchableLayers.convert(builtInCnn());
        IllegalArgumentException unknown = assertThrows(
                IllegalArgumentException.class,
                () -> PrecisionPlan.empty().with("linear_0", Precision.INT8).applyTo(sw));
        assertTrue(unknown.getMessage().contains("unknown layer id 'linear_0'"), unknown.getMessage());
        IllegalArgumentException pool = assertThrows(IllegalArgumentException.class, () -> PrecisionPlan.empty()
                .with("subsamplinglayer_0", Precision.FP16)
                .applyTo(sw));
        assertTrue(pool.getMessage().contains("can only run in FP32"), pool.getMessage());
        PrecisionPlan.empty().with("subsamplinglayer_0", Precision.FP32).applyTo(sw); // allowed
        MultiLayerNetwork builtInOut = builtInCnn();
        IllegalArgumentException output = assertThrows(
                IllegalArgumentException.class,
                () -> PrecisionPlan.empty().with("output_0", Precision.FP16).applyTo(builtInOut));
        assertTrue(output.getMessage().contains("can only run in FP32"), output.getMessage());
        assertThrows(
                IllegalArgumentException.class, () -> PrecisionPlan.fromJson("{\"layers\":{\"dense_0\":\"INT4\"}}"));
        MultiLayerNetwork builtIn = builtInCnn();
        IllegalArgumentException notConverted = assertThrows(
                IllegalArgumentException.class,
                () -> PrecisionPlan.empty().with("dense_0", Precision.INT8).applyTo(builtIn));
        assertTrue(notConverted.getMessage().contains("SwitchableLayers.convert"));
    }

    @Test
    void outputLayerStaysFp32UnlessThePlanNamesIt() {
        MultiLayerNetwork sw = SwitchableLayers.convert(builtInCnn());
        SwitchableOutputImpl out = (SwitchableOutputImpl) sw.getLayer(4);
        INDArray x = features();
        INDArray y = labels();
        INDArray fp32 = sw.output(x);
        PrecisionPlan uniform = PrecisionPlan.uniform(sw, Precision.INT8);
        assertEquals(Precision.FP32, uniform.precisionOf("output_0"));
        assertTrue(!uniform.layers().containsKey("output_0"));
        uniform.applyTo(sw);
        assertEquals(Precision.FP32, out.getPrecision());
        INDArray bodyInt8 = sw.output(x);
        for (Precision p : new Precision[] {Precision.INT8, Precision.FP16}) {
            uniform.with("output_0", p).applyTo(sw);
            assertEquals(p, out.getPrecision());
            INDArray both = sw.output(x);
            assertNotEquals(bodyInt8, both);
            double rel = both.sub(fp32).norm2Number().doubleValue()
                    / fp32.norm2Number().doubleValue();
            assertTrue(rel < 0.05, p + " output too far from FP32: " + rel);
            double[] rowSums = both.sum(1).toDoubleVector(); // softmax still FP32
            for (double r : rowSums) {
                assertEquals(1.0, r, 1e-5);
            }
            sw.setInput(x);
            sw.setLabels(y);
            sw.computeGradientAndScore();
            assertTrue(Double.isFinite(sw.score()));
            for (float v : sw.gradient().gradient().dup().data().asFloat()) {
                assertTrue(Float.isFinite(v));
            }
            assertTrue(out.lastSavedBytes() > 0);
        }
        sw.fit(x, y); // a training step with the output layer in FP16
        // only output_0 in low precision, via JSON as the planner ships plans
        PrecisionPlan only = PrecisionPlan.fromJson("{\"layers\":{\"output_0\":\"INT8\"}}");
        only.applyTo(sw);
        assertEquals(Precision.INT8, out.getPrecision());
        assertEquals(Precision.FP32, ((PrecisionSwitchable) sw.getLayer(3)).getPrecision());
        INDArray before = sw.output(x);
        PrecisionPlan.empty().applyTo(sw);
        assertEquals(Precision.FP32, out.getPrecision());
        assertNotEquals(before, sw.output(x));
        assertEquals(sw.output(x), SwitchableLayers.toBuiltIn(sw).output(x));
    }

    @Test
    void outputLayerOnlyNetworkFitsInLowPrecisionThroughComputeGradientAndScore() {
        MultiLayerNetwork base = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(1)
                .updater(new Adam(1e-2))
                .dataType(DataType.FLOAT)
                .list()
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(100)
                        .nOut(5)
                        .activation(Activation.SOFTMAX)
                        .build())
                .build());
        base.init();
        MultiLayerNetwork sw = SwitchableLayers.convert(base);
        new PrecisionPlan(Map.of("output_0", Precision.INT8)).applyTo(sw);
        INDArray x = features();
        INDArray y = labels();
        sw.setInput(x);
        sw.setLabels(y);
        sw.computeGradientAndScore();
        double first = sw.score();
        for (int i = 0; i < 20; i++) {
            sw.fit(x, y);
        }
        sw.computeGradientAndScore();
        assertTrue(sw.score() < first, "loss did not fall: " + first + " -> " + sw.score());
    }

    @Test
    void configurationJsonKeepsSwitchableLayersAndSettings() {
        MultiLayerNetwork sw = SwitchableLayers.convert(builtInCnn());
        ((SwitchableDenseLayer) sw.getLayer(3).conf().getLayer()).setInt8Rounding(IntRounding.STOCHASTIC);
        MultiLayerConfiguration back =
                MultiLayerConfiguration.fromJson(sw.getLayerWiseConfigurations().toJson());
        SwitchableDenseLayer d = (SwitchableDenseLayer) back.getConf(3).getLayer();
        assertEquals(IntRounding.STOCHASTIC, d.getInt8Rounding());
        assertEquals(
                SwitchableConvolutionLayer.class, back.getConf(0).getLayer().getClass());
        assertEquals(SwitchableOutputLayer.class, back.getConf(4).getLayer().getClass());
    }

    @Test
    void computationGraphUsesVertexNames() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(3)
                .updater(new Adam(1e-3))
                .dataType(DataType.FLOAT)
                .graphBuilder()
                .addInputs("in")
                .addLayer(
                        "stem",
                        new ConvolutionLayer.Builder(3, 3)
                                .nOut(3)
                                .activation(Activation.RELU)
                                .build(),
                        "in")
                .addLayer(
                        "fc",
                        new DenseLayer.Builder()
                                .nOut(8)
                                .activation(Activation.RELU)
                                .build(),
                        "stem")
                .addLayer(
                        "out",
                        new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                                .nOut(5)
                                .activation(Activation.SOFTMAX)
                                .build(),
                        "fc")
                .setOutputs("out")
                .setInputTypes(InputType.convolutionalFlat(10, 10, 1))
                .build();
        ComputationGraph base = new ComputationGraph(conf);
        base.init();
        ComputationGraph sw = SwitchableLayers.convert(base);
        assertTrue(sw.getLayer("out") instanceof SwitchableOutputImpl);
        assertArrayEquals(base.params().data().asFloat(), sw.params().data().asFloat());
        INDArray x = features();
        assertArrayEquals(
                base.outputSingle(x).data().asFloat(), sw.outputSingle(x).data().asFloat());
        base.setInputs(x);
        base.setLabels(labels());
        base.computeGradientAndScore();
        sw.setInputs(x);
        sw.setLabels(labels());
        sw.computeGradientAndScore();
        assertEquals(Double.doubleToLongBits(base.score()), Double.doubleToLongBits(sw.score()));
        assertArrayEquals(
                base.gradient().gradient().dup().data().asFloat(),
                sw.gradient().gradient().dup().data().asFloat());
        assertEquals(
                Map.of("stem", Precision.INT8, "fc", Precision.INT8),
                PrecisionPlan.uniform(sw, Precision.INT8).layers());
        PrecisionPlan plan = new PrecisionPlan(Map.of("stem", Precision.BF16, "fc", Precision.FP8_E4M3));
        plan.applyTo(sw);
        assertEquals(Precision.BF16, ((PrecisionSwitchable) sw.getLayer("stem")).getPrecision());
        INDArray lp = sw.outputSingle(x);
        double rel = lp.sub(base.outputSingle(x)).norm2Number().doubleValue()
                / lp.norm2Number().doubleValue();
        assertTrue(rel < 0.1, "BF16/FP8 output too far from FP32: " + rel);
        new PrecisionPlan(Map.of("stem", Precision.BF16, "fc", Precision.FP8_E4M3, "out", Precision.FP16)).applyTo(sw);
        assertEquals(Precision.FP16, ((PrecisionSwitchable) sw.getLayer("out")).getPrecision());
        assertNotEquals(lp, sw.outputSingle(x));
        sw.fit(new org.nd4j.linalg.dataset.DataSet(x, labels()));
        assertEquals(
                ConvolutionLayer.class,
                SwitchableLayers.toBuiltIn(sw)
                        .getLayer("stem")
                        .conf()
                        .getLayer()
                        .getClass());
        assertEquals(
                OutputLayer.class,
                SwitchableLayers.toBuiltIn(sw).getLayer("out").conf().getLayer().getClass());
    }
}
