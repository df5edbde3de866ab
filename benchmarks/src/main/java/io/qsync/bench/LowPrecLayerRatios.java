package io.qsync.bench;

import java.util.Arrays;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Interleaved companion to {@link LowPrecLayerBench} for a shared, noisy machine: the variants run
 * round-robin (one forward+backward each per round, order rotated every round), so load changes hit
 * all of them alike; same layers, shapes and workspace set-up as the JMH benchmark; prints
 * per-variant medians and the medians of the per-round ratios.
 *
 * <p>Usage: {@code LowPrecLayerRatios [rounds=60] [warmupRounds=15]}
 */
public final class LowPrecLayerRatios {
    private static final String[] VARIANTS = {"builtin", "FP32", "INT8", "FP16"};

    private LowPrecLayerRatios() {}

    /**
     * @param args optional rounds and warm-up rounds
     */
    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        for (String shape : new String[] {"dense", "conv"}) {
            run(shape, rounds, warmup);
        }
    }

    private static void run(String shape, int rounds, int warmup) {
        LayerWorkspaceMgr mgr = LowPrecLayerBench.workspaceMgr();
        Nd4j.getRandom().setSeed(1);
        INDArray input;
        INDArray eps;
        Layer[] layers = new Layer[VARIANTS.length];
        for (int v = 0; v < VARIANTS.length; v++) {
            NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder()
                    .seed(1)
                    .dataType(DataType.FLOAT)
                    .list();
            if (shape.equals("dense")) {
                b.layer(new DenseLayer.Builder()
                                .nIn(1024)
                                .nOut(1024)
                                .activation(Activation.RELU)
                                .build())
                        .layer(new OutputLayer.Builder()
                                .nOut(2)
                                .activation(Activation.SOFTMAX)
                                .build())
                        .setInputType(InputType.feedForward(1024));
            } else {
                b.layer(new ConvolutionLayer.Builder(3, 3)
                                .padding(1, 1)
                                .nIn(32)
                                .nOut(64)
                                .activation(Activation.RELU)
                                .build())
                        .layer(new OutputLayer.Builder()
                                .nOut(2)
                                .activation(Activation.SOFTMAX)
                                .build())
                        .setInputType(InputType.convolutional(16, 16, 32));
            }
            layers[v] = LowPrecLayerBench.layerFor(b.build(), VARIANTS[v]);
        }
        if (shape.equals("dense")) {
            input = Nd4j.randn(DataType.FLOAT, 64, 1024);
            eps = Nd4j.randn(DataType.FLOAT, 64, 1024);
        } else {
            input = Nd4j.randn(DataType.FLOAT, 64, 32, 16, 16);
            eps = Nd4j.randn(DataType.FLOAT, 64, 64, 16, 16);
        }
        double[][] ms = new double[VARIANTS.length][rounds];
        for (int r = -warmup; r < rounds; r++) {
            for (int j = 0; j < VARIANTS.length; j++) {
                int v = Math.floorMod(j + r, VARIANTS.length); // rotate the order so no variant always runs first
                long t0 = System.nanoTime();
                LowPrecLayerBench.step(layers[v], mgr, input, eps);
                long t1 = System.nanoTime();
                if (r >= 0) {
                    ms[v][r] = (t1 - t0) / 1e6;
                }
            }
        }
        StringBuilder sb = new StringBuilder("shape=" + shape);
        for (int v = 0; v < VARIANTS.length; v++) {
            sb.append(String.format(" %s=%.2fms", VARIANTS[v], median(ms[v])));
        }
        sb.append(String.format(
                " | FP32/builtin=%.3f INT8/FP32=%.3f FP16/FP32=%.3f (medians of per-round ratios, %d rounds)",
                medianRatio(ms[1], ms[0]), medianRatio(ms[2], ms[1]), medianRatio(ms[3], ms[1]), rounds));
        System.out.println(sb);
    }

    private static double median(double[] a) {
        double[] c = a.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }

    private static double medianRatio(double[] num, double[] den) {
        double[] r = new double[num.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = num[i] / den[i];
        }
        return median(r);
    }
}
