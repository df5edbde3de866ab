package io.qsync.lowprec.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.ops.Conv2dGeometry;
import io.qsync.lowprec.ops.ConvContext;
import io.qsync.lowprec.ops.GemmContext;
import io.qsync.lowprec.ops.LowPrecisionConv2d;
import io.qsync.lowprec.ops.LowPrecisionGemm;
import io.qsync.lowprec.quant.Int8Quantizer;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
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

/** The switchable layers feed the ops exactly: layer outputs and gradients equal direct op calls. */
class SwitchableLayerPlumbingTest {
    private final LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();

    private static MultiLayerNetwork net(org.deeplearning4j.nn.conf.layers.Layer first, InputType type) {
        MultiLayerNetwork n = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(11)
                .dataType(DataType.FLOAT)
                .list()
                .layer(first)
                .layer(new OutputLayer.Builder()
                        .nOut(2)
                        .activation(Activation.SOFTMAX)
                        .build())
                .setInputType(type)
                .build());
        n.init();
        return SwitchableLayers.convert(n);
    }

    @ParameterizedTest
    @EnumSource(
            value = Precision.class,
            names = {"INT8", "FP16", "BF16", "TF32", "FP8_E4M3", "FP8_E5M2"})
    void denseLayerEqualsOp(Precision p) {
        Layer l = net(
                        new DenseLayer.Builder()
                                .nIn(20)
                                .nOut(7)
                                .activation(Activation.IDENTITY)
                                .build(),
                        InputType.feedForward(20))
                .getLayer(0);
        ((PrecisionSwitchable) l).setPrecision(p);
        INDArray x = Nd4j.randn(DataType.FLOAT, 5, 20);
        INDArray eps = Nd4j.randn(DataType.FLOAT, 5, 7);
        l.setInput(x, mgr);
        INDArray out = l.activate(true, mgr).dup();
        Pair<Gradient, INDArray> g = l.backpropGradient(eps, mgr);
        LowPrecisionGemm op = new LowPrecisionGemm(p, Int8Quantizer.QSYNC_DEFAULT);
        GemmContext ctx = op.prepare(x, l.getParam("W"), ((long) 0 << 48));
        INDArray z = Nd4j.create(DataType.FLOAT, 5, 7);
        op.forward(ctx, l.getParam("b"), z);
        assertArrayEquals(z.data().asFloat(), out.dup('c').data().asFloat());
        INDArray dx = Nd4j.create(DataType.FLOAT, 5, 20);
        INDArray dw = Nd4j.create(DataType.FLOAT, new long[] {20, 7}, 'f');
        INDArray db = Nd4j.create(DataType.FLOAT, 1, 7);
        op.backward(ctx, eps, dx, dw, db);
        assertArrayEquals(dx.data().asFloat(), g.getSecond().dup('c').data().asFloat());
        assertArrayEquals(
                dw.dup('c').data().asFloat(),
                g.getFirst().getGradientFor("W").dup('c').data().asFloat());
        assertArrayEquals(
                db.data().asFloat(),
                g.getFirst().getGradientFor("b").dup('c').data().asFloat());
        assertEquals(ctx.savedBytes(), ((PrecisionSwitchable) l).lastSavedBytes());
    }

    @ParameterizedTest
    @EnumSource(
            value = Precision.class,
            names = {"INT8", "FP16", "FP8_E4M3"})
    void convLayerEqualsOp(Precision p) {
        Layer l = net(
                        new ConvolutionLayer.Builder(3, 3)
                                .stride(2, 1)
                                .padding(1, 0)
                                .nIn(3)
                                .nOut(4)
                                .activation(Activation.IDENTITY)
                                .build(),
                        InputType.convolutional(7, 6, 3))
                .getLayer(0);
        ((PrecisionSwitchable) l).setPrecision(p);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, 7, 6);
        int oh = (7 + 2 - 3) / 2 + 1;
        int ow = (6 - 3) + 1;
        INDArray eps = Nd4j.randn(DataType.FLOAT, 2, 4, oh, ow);
        l.setInput(x, mgr);
        INDArray out = l.activate(true, mgr).dup('c');
        Pair<Gradient, INDArray> g = l.backpropGradient(eps, mgr);
        LowPrecisionConv2d op = new LowPrecisionConv2d(p, Int8Quantizer.QSYNC_DEFAULT);
        ConvContext ctx =
                op.prepare(x, l.getParam("W"), new Conv2dGeometry(3, 3, 2, 1, 1, 0, 1, 1, false, 7, 6, oh, ow), 0L);
        assertArrayEquals(
                op.forward(ctx, l.getParam("b"), null).dup('c').data().asFloat(),
                out.data().asFloat());
        INDArray dx = Nd4j.create(DataType.FLOAT, 2, 3, 7, 6);
        INDArray dw = Nd4j.create(DataType.FLOAT, 4, 3, 3, 3);
        op.backward(ctx, eps, dx, dw, Nd4j.create(DataType.FLOAT, 1, 4));
        assertArrayEquals(dx.data().asFloat(), g.getSecond().dup('c').data().asFloat());
        assertArrayEquals(
                dw.data().asFloat(),
                g.getFirst().getGradientFor("W").dup('c').data().asFloat());
    }
}
