package io.qsync.cli;

import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.profile.NetworkGraphs;
import java.io.File;
import java.io.IOException;
import java.util.Locale;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The networks the CLI commands work on, under one set of names so that {@code profile-stats}, {@code indicator},
 * {@code profile-device} and {@code plan} describe the same layers: {@code fashion-cnn} (alias {@code cnn}, the demo
 * CNN), {@code vgg-cnn} (the CUDA issue's VGG-style CNN), {@code resnet-cnn}, {@code mlp} (784-256-256-10) and {@code residual-mlp} (alias {@code residual}), or a
 * saved MultiLayerNetwork zip. Every network comes back initialised, with precision-switchable layers.
 */
final class CliModels {
    /** Names accepted by {@code --model}. */
    static final String NAMES = "fashion-cnn (cnn), vgg-cnn, resnet-cnn, mlp, residual-mlp (residual)";

    private CliModels() {}

    /**
     * @param name       a demo model name
     * @param checkpoint saved MultiLayerNetwork zip used instead of {@code name}, or null
     * @param seed       initialisation seed
     * @return the network with switchable layers
     * @throws IllegalArgumentException naming {@code --model} for an unknown name
     */
    static Model build(String name, File checkpoint, long seed) throws IOException {
        if (checkpoint != null) {
            return SwitchableLayers.convert(MultiLayerNetwork.load(checkpoint, true));
        }
        Object conf = config(name, seed, 1e-3);
        return conf instanceof MultiLayerConfiguration m
                ? mln(new MultiLayerNetwork(m))
                : cg(new ComputationGraph((ComputationGraphConfiguration) conf));
    }

    /**
     * @param name         a demo model name
     * @param seed         initialisation seed
     * @param learningRate Adam learning rate
     * @return the network's DL4J configuration as JSON (what a training job ships to its workers)
     * @throws IllegalArgumentException naming {@code --model} for an unknown name
     */
    static String configJson(String name, long seed, double learningRate) {
        Object conf = config(name, seed, learningRate);
        return conf instanceof MultiLayerConfiguration m ? m.toJson() : ((ComputationGraphConfiguration) conf).toJson();
    }

    /** The demo network's configuration: a MultiLayerConfiguration or a ComputationGraphConfiguration. */
    private static Object config(String name, long seed, double learningRate) {
        return switch (canonical(name)) {
            case "fashion-cnn" -> DemoModels.fashionCnn(seed, learningRate);
            case "vgg-cnn" -> DemoModels.vggCnn(seed, learningRate);
            case "mlp" -> DemoModels.mlp(seed, 256, learningRate);
            case "resnet-cnn" -> DemoModels.resnetCnn(seed, learningRate);
            case "residual-mlp" -> DemoModels.residualMlp(seed, 128, learningRate);
            default -> throw new IllegalArgumentException("Unknown --model '" + name + "'; use " + NAMES);
        };
    }

    /** @return the canonical name ({@code cnn} → {@code fashion-cnn}, {@code residual} → {@code residual-mlp}) */
    static String canonical(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "cnn" -> "fashion-cnn";
            case "residual" -> "residual-mlp";
            default -> n;
        };
    }

    /**
     * @param name the {@code --model} name the network was built from
     * @param net  the network
     * @return its layer graph (the image CNN graph reads 28×28×1 images; feed-forward graphs infer their inputs)
     */
    static LayerGraph graph(String name, Model net) {
        if (net instanceof MultiLayerNetwork m) {
            return NetworkGraphs.of(m);
        }
        ComputationGraph g = (ComputationGraph) net;
        return "resnet-cnn".equals(canonical(name))
                ? NetworkGraphs.of(g, InputType.convolutionalFlat(28, 28, 1))
                : NetworkGraphs.of(g);
    }

    /**
     * @param rows examples
     * @return a batch of uniform random 784-pixel inputs with labels {@code i mod 10} (the demo models' input shape),
     *     for measurements that depend on shapes, not on data
     */
    static DataSet randomBatch(int rows) {
        INDArray x = Nd4j.rand(DataType.FLOAT, rows, 784);
        INDArray y = Nd4j.zeros(DataType.FLOAT, rows, 10);
        for (int i = 0; i < rows; i++) {
            y.putScalar(i, i % 10, 1);
        }
        return new DataSet(x, y);
    }

    /** {@link #randomBatch} as a backend-neutral batch. */
    static io.qsync.runtime.HostBatch randomHostBatch(int rows) {
        DataSet d = randomBatch(rows);
        return new io.qsync.runtime.HostBatch(
                rows,
                784,
                d.getFeatures().data().asFloat(),
                10,
                d.getLabels().data().asFloat());
    }

    private static MultiLayerNetwork mln(MultiLayerNetwork n) {
        n.init();
        return SwitchableLayers.convert(n);
    }

    private static ComputationGraph cg(ComputationGraph g) {
        g.init();
        return SwitchableLayers.convert(g);
    }
}
