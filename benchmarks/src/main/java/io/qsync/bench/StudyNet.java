package io.qsync.bench;

import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.profile.NetworkGraphs;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The network of the sensitivity study behind one interface: {@code sensitivity-cnn} (a MultiLayerNetwork, six
 * switchable layers) or {@code resnet-cnn} (a ComputationGraph, eleven switchable layers), both with switchable
 * layers, seed 42, Adam lr 1e-3.
 *
 * @param model the network
 */
record StudyNet(Model model) {
    static StudyNet of(String name) {
        return switch (name) {
            case "sensitivity-cnn" -> {
                MultiLayerNetwork n = new MultiLayerNetwork(DemoModels.sensitivityCnn(42, 1e-3));
                n.init();
                yield new StudyNet(SwitchableLayers.convert(n));
            }
            case "resnet-cnn" -> {
                ComputationGraph g = new ComputationGraph(DemoModels.resnetCnn(42, 1e-3));
                g.init();
                yield new StudyNet(SwitchableLayers.convert(g));
            }
            default -> throw new IllegalArgumentException(
                    "Unknown model '" + name + "'; use sensitivity-cnn or resnet-cnn");
        };
    }

    LayerGraph graph() {
        return model instanceof MultiLayerNetwork m
                ? NetworkGraphs.of(m)
                : NetworkGraphs.of((ComputationGraph) model, InputType.convolutionalFlat(28, 28, 1));
    }

    INDArray updaterState() {
        return model instanceof MultiLayerNetwork m
                ? m.getUpdater().getStateViewArray()
                : ((ComputationGraph) model).getUpdater().getStateViewArray();
    }

    int iteration() {
        return model instanceof MultiLayerNetwork m
                ? m.getIterationCount()
                : ((ComputationGraph) model).getIterationCount();
    }

    void setIteration(int i) {
        if (model instanceof MultiLayerNetwork m) {
            m.setIterationCount(i);
        } else {
            ((ComputationGraph) model).getConfiguration().setIterationCount(i);
        }
    }

    void setLearningRate(double lr) {
        if (model instanceof MultiLayerNetwork m) {
            m.setLearningRate(lr);
        } else {
            ((ComputationGraph) model).setLearningRate(lr);
        }
    }

    void fit(DataSet ds) {
        if (model instanceof MultiLayerNetwork m) {
            m.fit(ds);
        } else {
            ((ComputationGraph) model).fit(ds);
        }
    }

    double score(DataSet ds) {
        return model instanceof MultiLayerNetwork m ? m.score(ds) : ((ComputationGraph) model).score(ds);
    }

    void apply(PrecisionPlan plan) {
        if (model instanceof MultiLayerNetwork m) {
            plan.applyTo(m);
        } else {
            plan.applyTo((ComputationGraph) model);
        }
    }
}
