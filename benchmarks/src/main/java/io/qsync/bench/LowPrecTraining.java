package io.qsync.bench;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.SwitchableLayers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * One epoch of a small CNN on a Fashion-MNIST training subset in every {@link Precision} (all
 * switchable layers at that precision, output layer FP32), same initial parameters and batch order.
 * Reports first/last loss and test accuracy (evaluated with the plan applied, and in FP32).
 *
 * <p>Usage: {@code LowPrecTraining [trainImages=10000] [testImages=10000] [output=benchmarks/results/lowprec.md]}
 */
public final class LowPrecTraining {
    private static final String DIR = "/usr/share/datasets/fashion-mnist/";
    private static final int BATCH = 64;

    private LowPrecTraining() {}

    static MultiLayerNetwork cnn() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42)
                .updater(new Adam(1e-3))
                .weightInit(WeightInit.RELU)
                .dataType(DataType.FLOAT)
                .list()
                .layer(new ConvolutionLayer.Builder(5, 5)
                        .nOut(8)
                        .activation(Activation.RELU)
                        .build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(2, 2)
                        .stride(2, 2)
                        .build())
                .layer(new ConvolutionLayer.Builder(5, 5)
                        .nOut(16)
                        .activation(Activation.RELU)
                        .build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(2, 2)
                        .stride(2, 2)
                        .build())
                .layer(new DenseLayer.Builder()
                        .nOut(64)
                        .activation(Activation.RELU)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(10)
                        .activation(Activation.SOFTMAX)
                        .build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    static INDArray features(float[][] x, int from, int to) {
        float[][] rows = new float[to - from][];
        System.arraycopy(x, from, rows, 0, to - from);
        return Nd4j.createFromArray(rows);
    }

    static INDArray oneHot(int[] y, int from, int to) {
        INDArray out = Nd4j.zeros(DataType.FLOAT, to - from, 10);
        for (int i = from; i < to; i++) {
            out.putScalar(i - from, y[i], 1f);
        }
        return out;
    }

    static double accuracy(MultiLayerNetwork net, float[][] x, int[] y) {
        int correct = 0;
        for (int s = 0; s < x.length; s += 500) {
            int e = Math.min(x.length, s + 500);
            INDArray pred = net.output(features(x, s, e)).argMax(1);
            for (int i = s; i < e; i++) {
                correct += pred.getInt(i - s) == y[i] ? 1 : 0;
            }
        }
        return correct / (double) x.length;
    }

    /**
     * @param args optional: train subset size, test size, output markdown path
     * @throws IOException if the data cannot be read or the results not written
     */
    public static void main(String[] args) throws IOException {
        int nTrain = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int nTest = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        Path outFile = Path.of(args.length > 2 ? args[2] : "benchmarks/results/lowprec-training.md");
        float[][] xTrain = IdxImages.images(DIR + "train-images-idx3-ubyte.gz", nTrain);
        int[] yTrain = IdxImages.labels(DIR + "train-labels-idx1-ubyte.gz", nTrain);
        float[][] xTest = IdxImages.images(DIR + "t10k-images-idx3-ubyte.gz", nTest);
        int[] yTest = IdxImages.labels(DIR + "t10k-labels-idx1-ubyte.gz", nTest);
        MultiLayerNetwork template = SwitchableLayers.convert(cnn());
        List<String> rows = new ArrayList<>();
        for (Precision p : Precision.values()) {
            MultiLayerNetwork net = SwitchableLayers.convert(template); // same initial params, fresh updater
            PrecisionPlan plan = PrecisionPlan.uniform(net, p);
            plan.applyTo(net);
            int batches = (nTrain + BATCH - 1) / BATCH;
            double[] losses = new double[batches];
            long t0 = System.nanoTime();
            for (int b = 0; b < batches; b++) {
                int s = b * BATCH;
                int e = Math.min(nTrain, s + BATCH);
                net.fit(features(xTrain, s, e), oneHot(yTrain, s, e));
                losses[b] = net.score();
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            double first = mean(losses, 0, 10);
            double last = mean(losses, batches - 10, batches);
            double accPlan = accuracy(net, xTest, yTest);
            PrecisionPlan.empty().applyTo(net);
            double accFp32 = accuracy(net, xTest, yTest);
            String row = String.format(
                    "| %s | %.4f | %.4f | %s | %.4f | %.4f | %.1f |",
                    p, first, last, last < first ? "yes" : "NO", accPlan, accFp32, secs);
            System.out.println(row + "   plan=" + plan.toJson());
            rows.add(row);
        }
        StringBuilder md = new StringBuilder();
        md.append("## Low-precision training, 1 epoch Fashion-MNIST subset\n\n");
        md.append("- date: ").append(ZonedDateTime.now()).append('\n');
        md.append("- machine: ")
                .append(System.getProperty("os.name"))
                .append(' ')
                .append(System.getProperty("os.arch"))
                .append(", ")
                .append(Runtime.getRuntime().availableProcessors())
                .append(" cores, Java ")
                .append(System.getProperty("java.version"))
                .append('\n');
        md.append("- data: ")
                .append(nTrain)
                .append(" training images (first of train set), ")
                .append(nTest)
                .append(" test images; batch ")
                .append(BATCH)
                .append(", Adam 1e-3, seed 42, same initial parameters and order\n");
        md.append(
                "- model: conv5x5x8-relu, maxpool2, conv5x5x16-relu, maxpool2, dense64-relu, softmax output (FP32)\n");
        md.append("- loss first/last = mean minibatch loss of the first / last 10 minibatches\n\n");
        md.append(
                "| precision | loss first 10 | loss last 10 | loss fell | test acc (plan applied) | test acc (FP32 eval) | train s |\n");
        md.append("|---|---|---|---|---|---|---|\n");
        rows.forEach(r -> md.append(r).append('\n'));
        Files.createDirectories(outFile.toAbsolutePath().getParent());
        Files.writeString(outFile, md.toString());
        System.out.println(md);
    }

    private static double mean(double[] a, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += a[i];
        }
        return s / (to - from);
    }
}
