package io.qsync.runtime;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A network to train, as shipped from the driver to every worker: the DL4J model zip written by
 * {@link ModelSerializer} (JSON configuration, parameters and updater state). Every worker restores the identical
 * model from it, so training starts from identical parameters everywhere.
 *
 * @param modelZip the serialized model
 * @param graph    true for a {@link ComputationGraph}, false for a {@link MultiLayerNetwork}
 */
public record ModelSpec(byte[] modelZip, boolean graph) implements Serializable {

    /** Snapshots an initialized network (parameters and updater state are copied). */
    public static ModelSpec of(Model model) {
        if (!(model instanceof MultiLayerNetwork) && !(model instanceof ComputationGraph)) {
            throw new IllegalArgumentException("only MultiLayerNetwork and ComputationGraph are supported, got "
                    + model.getClass().getName());
        }
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try {
            ModelSerializer.writeModel(model, bos, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialize the model", e);
        }
        return new ModelSpec(bos.toByteArray(), model instanceof ComputationGraph);
    }

    /** A freshly initialized network from its JSON configuration (seeded by the configuration's seed). */
    public static ModelSpec fromJson(String json) {
        String t = json.trim();
        try {
            if (t.contains("\"vertices\"")) {
                ComputationGraph g = new ComputationGraph(ComputationGraphConfiguration.fromJson(t));
                g.init();
                return of(g);
            }
            MultiLayerNetwork n = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(t));
            n.init();
            return of(n);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    "not a valid DL4J MultiLayerConfiguration or ComputationGraphConfiguration " + "JSON: "
                            + e.getMessage(),
                    e);
        }
    }

    /** Restores the network (with its updater state). */
    public Model restore() {
        try (ByteArrayInputStream in = new ByteArrayInputStream(modelZip)) {
            return graph
                    ? ModelSerializer.restoreComputationGraph(in, true)
                    : ModelSerializer.restoreMultiLayerNetwork(in, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restore the model", e);
        }
    }
}
