package io.qsync.profile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.planner.stats.LayerStatistics;
import io.qsync.planner.stats.ModelStatistics;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class StatisticsCollectorTest {

    static MultiLayerNetwork tiny() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(5)
                .updater(new Sgd(0.1))
                .weightInit(WeightInit.XAVIER)
                .dataType(DataType.FLOAT)
                .list()
                .layer(new DenseLayer.Builder()
                        .nIn(4)
                        .nOut(3)
                        .activation(Activation.TANH)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(3)
                        .nOut(2)
                        .activation(Activation.SOFTMAX)
                        .build())
                .build());
        net.init();
        return SwitchableLayers.convert(net);
    }

    static List<DataSet> batches(int k, int b) {
        Nd4j.getRandom().setSeed(11);
        List<DataSet> out = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            INDArray x = Nd4j.rand(DataType.FLOAT, b, 4).muli(i + 1);
            INDArray y = Nd4j.zeros(DataType.FLOAT, b, 2);
            for (int r = 0; r < b; r++) {
                y.putScalar(r, r % 2, 1f);
            }
            out.add(new DataSet(x, y));
        }
        return out;
    }

    @Test
    void runningMeanCountsEverySample() {
        RunningMean m = new RunningMean();
        m.add(1);
        m.add(2);
        m.add(6);
        assertEquals(3.0, m.mean(), 1e-15, "QSync's version would give 4.0 (first sample dropped)");
        assertEquals(3, m.count());
    }

    @Test
    void statisticsMatchDirectComputationAndRoundTripJson() {
        MultiLayerNetwork net = tiny();
        PrecisionPlan.empty().with("dense_0", Precision.INT8).applyTo(net);
        INDArray before = net.params().dup();
        List<DataSet> data = batches(3, 8);
        ModelStatistics st = new StatisticsCollector(0, 1e-3, 1).collect(net, NetworkGraphs.of(net), data);
        assertEquals(List.of("dense_0"), List.copyOf(st.layers().keySet()), "only switchable layers");
        LayerStatistics s = st.layer("dense_0");
        double meanSv = 0;
        for (DataSet d : data) {
            meanSv += d.getFeatures().amaxNumber().doubleValue() / 127 / data.size();
        }
        assertEquals(meanSv, s.sV(), 1e-7, "mean over all 3 batches");
        INDArray w = net.getLayer(0).getParam("W");
        assertEquals(w.amaxNumber().doubleValue() / 127, s.sW(), 1e-9);
        assertEquals(8 * 4, s.dV());
        assertEquals(12, s.dW());
        assertEquals(8 * 3, s.dVV());
        assertEquals(w.norm2Number().doubleValue(), s.normW(), 1e-6);
        assertEquals(0.0, s.quantization(Precision.FP32).squaredError());
        assertTrue(s.quantization(Precision.INT8).squaredError()
                > s.quantization(Precision.FP16).squaredError());
        assertTrue(s.gradNorm() > 0 && s.gradMaxAbs() > 0 && s.gradMaxAbs() <= s.gradNorm());
        assertArrayEquals(before.toFloatVector(), net.params().toFloatVector(), "parameters untouched");
        assertEquals(
                Precision.INT8,
                ((io.qsync.lowprec.layers.PrecisionSwitchable) net.getLayer(0)).getPrecision(),
                "precision restored");
        assertEquals(st, ModelStatistics.fromJson(st.toJson()));
    }

    @Test
    void gradientIsThatOfTheMeanLoss() {
        MultiLayerNetwork net = tiny();
        List<DataSet> data = batches(2, 8);
        ModelStatistics st = new StatisticsCollector(0, 1e-3, 1).collect(net, NetworkGraphs.of(net), data);
        INDArray sum = null;
        for (DataSet d : data) {
            net.setInput(d.getFeatures());
            net.setLabels(d.getLabels());
            net.computeGradientAndScore();
            INDArray g = net.gradient().getGradientFor("0_W").dup().divi(8 * 2);
            sum = sum == null ? g : sum.addi(g);
        }
        assertEquals(sum.norm2Number().doubleValue(), st.layer("dense_0").gradNorm(), 1e-6);
        assertEquals(sum.amaxNumber().doubleValue(), st.layer("dense_0").gradMaxAbs(), 1e-7);
    }

    @Test
    void hutchinsonTraceMatchesExactDiagonal() {
        MultiLayerNetwork net = tiny();
        List<DataSet> data = batches(1, 16);
        ModelStatistics st = new StatisticsCollector(300, 1e-2, 3).collect(net, NetworkGraphs.of(net), data);
        // exact tr(H) of the W block by central differences along each coordinate
        INDArray p = net.params();
        INDArray saved = p.dup();
        double eps = 1e-2;
        double exact = 0;
        for (int i = 0; i < 12; i++) {
            p.putScalar(i, saved.getDouble(i) + eps);
            double gp = grad(net, data.get(0), i);
            p.putScalar(i, saved.getDouble(i) - eps);
            double gm = grad(net, data.get(0), i);
            p.assign(saved);
            exact += (gp - gm) / (2 * eps);
        }
        LayerStatistics s = st.layer("dense_0");
        assertEquals(300, s.hessianSamples());
        assertEquals(
                exact,
                s.hessianTrace(),
                0.2 * Math.abs(exact) + 1e-4,
                "Hutchinson " + s.hessianTrace() + " vs exact " + exact);
        assertArrayEquals(saved.toFloatVector(), net.params().toFloatVector());
    }

    private static double grad(MultiLayerNetwork net, DataSet d, int i) {
        net.setInput(d.getFeatures());
        net.setLabels(d.getLabels());
        net.computeGradientAndScore();
        return net.getGradientsViewArray().getDouble(i) / d.numExamples();
    }
}
