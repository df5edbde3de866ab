package io.qsync.lowprec.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionSwitchable;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.lowprec.layers.SwitchableOutputImpl;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The switchable output layer at INT8/FP16 against the float64 reference of the same emulation
 * ({@link EmulationReference}, ≤ 1e-5 relative, norm-wise max): Z, score, dX, dW, db. Identity
 * activation with MSE, so that {@code dZ} is the loss gradient at the layer's own Z.
 */
class OutputLayerReferenceTest {
    private static final double TOL = 1e-5;
    private final LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();

    private static float[][] rows(INDArray a) {
        return a.dup('c').toFloatMatrix();
    }

    private static void assertClose(double[][] ref, INDArray actual, String what) {
        RelativeError.assertClose(ref, actual, TOL, what);
    }

    @ParameterizedTest
    @EnumSource(
            value = Precision.class,
            names = {"INT8", "FP16"})
    void outputLayerMatchesFloat64Reference(Precision p) {
        int m = 10, k = 24, n = 6;
        MultiLayerNetwork base = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(5)
                .dataType(DataType.FLOAT)
                .list()
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE)
                        .nIn(k)
                        .nOut(n)
                        .activation(Activation.IDENTITY)
                        .build())
                .setInputType(InputType.feedForward(k))
                .build());
        base.init();
        MultiLayerNetwork net = SwitchableLayers.convert(base);
        net.initGradientsView();
        Layer l = net.getLayer(0);
        assertTrue(l instanceof SwitchableOutputImpl);
        ((PrecisionSwitchable) l).setPrecision(p);
        Nd4j.getRandom().setSeed(9);
        INDArray x = Nd4j.randn(DataType.FLOAT, m, k);
        INDArray y = Nd4j.randn(DataType.FLOAT, m, n);
        float[][] xs = rows(x);
        float[][] ws = rows(l.getParam("W"));
        float[] bs = l.getParam("b").dup().toFloatVector();

        l.setInput(x, mgr);
        ((IOutputLayer) l).setLabels(y);
        INDArray z = l.activate(false, mgr).dup('c'); // identity activation: Z itself
        double[][] zRef = EmulationReference.forward(p, xs, ws, bs, false);
        assertClose(zRef, z, p + " Z");
        assertClose(zRef, l.activate(true, mgr).dup('c'), p + " Z (training)");

        double score = ((IOutputLayer) l).computeScore(0.0, true, mgr);
        double scoreRef = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double d = zRef[i][j] - y.getDouble(i, j);
                scoreRef += d * d;
            }
        }
        scoreRef /= (double) n * m;
        assertEquals(scoreRef, score, TOL * scoreRef, p + " score");

        // dZ as the layer computes it: DL4J's FP32 loss gradient at the layer's Z
        INDArray dz = ((org.deeplearning4j.nn.conf.layers.OutputLayer) l.conf().getLayer())
                .getLossFn()
                .computeGradient(y, z.dup(), Activation.IDENTITY.getActivationFunction(), null);
        Pair<Gradient, INDArray> g = l.backpropGradient(null, mgr);
        double[][][] ref = EmulationReference.backward(p, xs, ws, rows(dz), false);
        assertClose(ref[0], g.getSecond(), p + " dX");
        assertClose(ref[1], g.getFirst().getGradientFor("W"), p + " dW");
        double[][] dbRef = new double[1][n];
        for (float[] row : rows(dz)) {
            for (int j = 0; j < n; j++) {
                dbRef[0][j] += row[j];
            }
        }
        assertClose(dbRef, g.getFirst().getGradientFor("b").dup('c').reshape(1, n), p + " db");
        assertTrue(((PrecisionSwitchable) l).lastSavedBytes() > 0);
    }
}
