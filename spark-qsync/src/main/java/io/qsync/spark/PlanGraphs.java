package io.qsync.spark;

import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.profile.NetworkGraphs;
import io.qsync.runtime.ModelSpec;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** The job's network as the planner sees it: with precision-switchable layers, and its layer graph. */
final class PlanGraphs {
    private PlanGraphs() {}

    /** @return the network of {@code spec} with precision-switchable dense, convolution and output layers */
    static ModelSpec switchable(ModelSpec spec) {
        Model m = spec.restore();
        return ModelSpec.of(
                m instanceof MultiLayerNetwork n
                        ? SwitchableLayers.convert(n)
                        : SwitchableLayers.convert((ComputationGraph) m));
    }

    /**
     * @param net a network
     * @return its layer graph (input types from the configuration)
     * @throws IllegalArgumentException naming spark.qsync.plan when the input types cannot be found
     */
    static LayerGraph of(Model net) {
        try {
            return net instanceof MultiLayerNetwork m ? NetworkGraphs.of(m) : NetworkGraphs.of((ComputationGraph) net);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    "spark.qsync.plan=auto cannot read the network's layer shapes (" + e.getMessage() + "); give the "
                            + "configuration its input types (setInputType / setInputTypes) or plan with `qsync plan`",
                    e);
        }
    }
}
