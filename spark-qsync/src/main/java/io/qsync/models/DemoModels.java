package io.qsync.models;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
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
        .layer(new ConvolutionLayer.Builder(5, 5).nOut(16).activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new ConvolutionLayer.Builder(5, 5).nOut(32).activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new DenseLayer.Builder().nOut(64).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX)
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
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(conv3x3(16))
        .layer(conv3x3(16))
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new DenseLayer.Builder().nOut(64).activation(Activation.RELU).build())
        .layer(new DenseLayer.Builder().nOut(32).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX)
            .build())
        .setInputType(InputType.convolutionalFlat(28, 28, 1))
        .build();
  }

  private static ConvolutionLayer conv3x3(int nOut) {
    return new ConvolutionLayer.Builder(3, 3).padding(1, 1).nOut(nOut).activation(Activation.RELU).build();
  }

  /** An MLP 784-hidden-hidden-10 with Adam. */
  public static MultiLayerConfiguration mlp(long seed, int hidden, double learningRate) {
    return new NeuralNetConfiguration.Builder()
        .seed(seed)
        .updater(new Adam(learningRate))
        .weightInit(WeightInit.XAVIER)
        .list()
        .layer(new DenseLayer.Builder().nIn(784).nOut(hidden).activation(Activation.RELU).build())
        .layer(new DenseLayer.Builder().nOut(hidden).activation(Activation.TANH).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX)
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
        .addLayer("dense_in", new DenseLayer.Builder().nIn(784).nOut(hidden).activation(Activation.RELU).build(), "in")
        .addLayer("dense_res", new DenseLayer.Builder().nIn(hidden).nOut(hidden).activation(Activation.RELU).build(),
            "dense_in")
        .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "dense_in", "dense_res")
        .addLayer("dense_out", new DenseLayer.Builder().nIn(hidden).nOut(hidden).activation(Activation.TANH).build(),
            "add")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden).nOut(10)
            .activation(Activation.SOFTMAX).build(), "dense_out")
        .setOutputs("out")
        .setInputTypes(InputType.feedForward(784))
        .build();
  }
}
