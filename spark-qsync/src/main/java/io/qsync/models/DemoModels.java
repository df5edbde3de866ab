package io.qsync.models;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Small networks for 28x28 grey images with 10 classes (Fashion-MNIST), fed as flat 784-float rows. */
public final class DemoModels {
    private DemoModels() {}

    /** A small CNN: conv5x5(16)-maxpool-conv5x5(32)-maxpool-dense(64)-softmax(10), Adam. */
    public static MultiLayerConfiguration fashionCnn(long seed, double learningRate) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(learningRate))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new ConvolutionLayer.Builder(5, 5)
                        .nOut(16)
                        .activation(Activation.RELU)
                        .build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(2, 2)
                        .stride(2, 2)
                        .build())
                .layer(new ConvolutionLayer.Builder(5, 5)
                        .nOut(32)
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
    }

    /**
     * A deeper small CNN for sensitivity studies, with six switchable layers (four convolutions, two dense):
     * conv3x3(8)-conv3x3(8)-maxpool-conv3x3(16)-conv3x3(16)-maxpool-dense(64)-dense(32)-softmax(10), padding 1, Adam.
     *
     * @param seed         weight-initialisation seed
     * @param learningRate Adam learning rate
     * @return the configuration (input: flat 784-float rows)
     */
    public static MultiLayerConfiguration sensitivityCnn(long seed, double learningRate) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(learningRate))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(conv3x3(8))
                .layer(conv3x3(8))
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(2, 2)
                        .stride(2, 2)
                        .build())
                .layer(conv3x3(16))
                .layer(conv3x3(16))
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(2, 2)
                        .stride(2, 2)
                        .build())
                .layer(new DenseLayer.Builder()
                        .nOut(64)
                        .activation(Activation.RELU)
                        .build())
                .layer(new DenseLayer.Builder()
                        .nOut(32)
                        .activation(Activation.RELU)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(10)
                        .activation(Activation.SOFTMAX)
                        .build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1))
                .build();
    }

    private static ConvolutionLayer conv3x3(int nOut) {
        return new ConvolutionLayer.Builder(3, 3)
                .padding(1, 1)
                .nOut(nOut)
                .activation(Activation.RELU)
                .build();
    }

    /**
     * A VGG-style CNN for 28x28x1 images: six 3x3 convolutions (padding 1, ReLU) of 64-64-128-128-256-256 channels, a
     * 2x2 max-pool after each pair (28 -> 14 -> 7 -> 3), dense(512, ReLU), softmax(10); Adam.
     *
     * @param seed         weight-initialisation seed
     * @param learningRate Adam learning rate
     * @return the configuration (input: flat 784-float rows)
     */
    public static MultiLayerConfiguration vggCnn(long seed, double learningRate) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(learningRate))
                .weightInit(WeightInit.RELU)
                .list();
        for (int ch : new int[] {64, 128, 256}) {
            b.layer(conv3x3(ch))
                    .layer(conv3x3(ch))
                    .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                            .kernelSize(2, 2)
                            .stride(2, 2)
                            .build());
        }
        return b.layer(new DenseLayer.Builder()
                        .nOut(512)
                        .activation(Activation.RELU)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(10)
                        .activation(Activation.SOFTMAX)
                        .build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1))
                .build();
    }

    /** An MLP 784-hidden-hidden-10 with Adam. */
    public static MultiLayerConfiguration mlp(long seed, int hidden, double learningRate) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(learningRate))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new DenseLayer.Builder()
                        .nIn(784)
                        .nOut(hidden)
                        .activation(Activation.RELU)
                        .build())
                .layer(new DenseLayer.Builder()
                        .nOut(hidden)
                        .activation(Activation.TANH)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(10)
                        .activation(Activation.SOFTMAX)
                        .build())
                .setInputType(InputType.feedForward(784))
                .build();
    }

    /** A residual graph: dense(h) -> [dense(h) + skip] (element-wise add) -> dense(h) -> softmax(10), Adam. */
    public static ComputationGraphConfiguration residualMlp(long seed, int hidden, double learningRate) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(learningRate))
                .weightInit(WeightInit.XAVIER)
                .graphBuilder()
                .addInputs("in")
                .addLayer(
                        "dense_in",
                        new DenseLayer.Builder()
                                .nIn(784)
                                .nOut(hidden)
                                .activation(Activation.RELU)
                                .build(),
                        "in")
                .addLayer(
                        "dense_res",
                        new DenseLayer.Builder()
                                .nIn(hidden)
                                .nOut(hidden)
                                .activation(Activation.RELU)
                                .build(),
                        "dense_in")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "dense_in", "dense_res")
                .addLayer(
                        "dense_out",
                        new DenseLayer.Builder()
                                .nIn(hidden)
                                .nOut(hidden)
                                .activation(Activation.TANH)
                                .build(),
                        "add")
                .addLayer(
                        "out",
                        new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                                .nIn(hidden)
                                .nOut(10)
                                .activation(Activation.SOFTMAX)
                                .build(),
                        "dense_out")
                .setOutputs("out")
                .setInputTypes(InputType.feedForward(784))
                .build();
    }

    /**
     * A small ResNet-style CNN (ComputationGraph) for 28x28x1 images: stem conv3x3(16)+BN+ReLU, two residual blocks of
     * 16 channels, one downsampling block to 32 channels (stride-2 conv3x3 + 1x1 projection shortcut), one residual
     * block of 32 channels (conv + batchnorm + add), global average pooling, dense(64), softmax(10); Adam. Nine
     * switchable layers (eight convs and the dense layer).
     */
    public static ComputationGraphConfiguration resnetCnn(long seed, double learningRate) {
        return resnetCnn(seed, new Adam(learningRate));
    }

    /**
     * As {@link #resnetCnn(long, double)}, with another updater (the contract suite compares engines with momentum SGD,
     * which, unlike Adam, does not turn the rounding noise of near-zero gradients into full-size steps).
     */
    public static ComputationGraphConfiguration resnetCnn(long seed, org.nd4j.linalg.learning.config.IUpdater updater) {
        ComputationGraphConfiguration.GraphBuilder b = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(updater)
                .weightInit(WeightInit.RELU)
                .convolutionMode(ConvolutionMode.Same)
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutionalFlat(28, 28, 1));
        b.addLayer(
                        "stem",
                        new ConvolutionLayer.Builder(3, 3)
                                .nOut(16)
                                .activation(Activation.IDENTITY)
                                .build(),
                        "in")
                .addLayer("stem_bn", new BatchNormalization.Builder().build(), "stem")
                .addLayer(
                        "stem_relu",
                        new ActivationLayer.Builder()
                                .activation(Activation.RELU)
                                .build(),
                        "stem_bn");
        String x = residual(b, "b1", "stem_relu", 16, 1, false);
        x = residual(b, "b2", x, 16, 1, false);
        x = residual(b, "b3", x, 32, 2, true);
        x = residual(b, "b4", x, 32, 1, false);
        b.addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), x)
                .addLayer(
                        "fc",
                        new DenseLayer.Builder()
                                .nOut(64)
                                .activation(Activation.RELU)
                                .build(),
                        "pool")
                .addLayer(
                        "out",
                        new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                                .nOut(10)
                                .activation(Activation.SOFTMAX)
                                .build(),
                        "fc")
                .setOutputs("out");
        return b.build();
    }

    private static String residual(
            ComputationGraphConfiguration.GraphBuilder b, String n, String in, int ch, int stride, boolean project) {
        b.addLayer(
                        n + "_conv1",
                        new ConvolutionLayer.Builder(3, 3)
                                .stride(stride, stride)
                                .nOut(ch)
                                .activation(Activation.IDENTITY)
                                .build(),
                        in)
                .addLayer(n + "_bn1", new BatchNormalization.Builder().build(), n + "_conv1")
                .addLayer(
                        n + "_relu1",
                        new ActivationLayer.Builder()
                                .activation(Activation.RELU)
                                .build(),
                        n + "_bn1")
                .addLayer(
                        n + "_conv2",
                        new ConvolutionLayer.Builder(3, 3)
                                .nOut(ch)
                                .activation(Activation.IDENTITY)
                                .build(),
                        n + "_relu1")
                .addLayer(n + "_bn2", new BatchNormalization.Builder().build(), n + "_conv2");
        String skip = in;
        if (project) {
            b.addLayer(
                    n + "_proj",
                    new ConvolutionLayer.Builder(1, 1)
                            .stride(stride, stride)
                            .nOut(ch)
                            .activation(Activation.IDENTITY)
                            .build(),
                    in);
            skip = n + "_proj";
        }
        b.addVertex(n + "_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), n + "_bn2", skip)
                .addLayer(
                        n + "_relu",
                        new ActivationLayer.Builder()
                                .activation(Activation.RELU)
                                .build(),
                        n + "_add");
        return n + "_relu";
    }
}
