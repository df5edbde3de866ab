package io.qsync.spark;

import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.runtime.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** Driver-side checks and preparation of per-worker precision plans. */
final class WorkerPlans {
    private WorkerPlans() {}

    /** Plans as JSON by rank; empty if none. Fails unless there is exactly one plan per worker. */
    static List<String> validate(List<PrecisionPlan> plans, int numWorkers) {
        if (plans.isEmpty()) {
            return List.of();
        }
        if (plans.size() != numWorkers) {
            throw new IllegalArgumentException(plans.size() + " precision plans for spark.qsync.numWorkers="
                    + numWorkers + "; give exactly one plan per worker (index = rank)");
        }
        List<String> json = new ArrayList<>();
        for (PrecisionPlan p : plans) {
            json.add(p.toJson());
        }
        return json;
    }

    /**
     * The model with precision-switchable dense/conv layers (same parameters), after checking on the driver that every
     * plan applies to it (unknown layer ids or unsupported precisions fail here, before launching).
     */
    static ModelSpec switchable(ModelSpec spec, List<PrecisionPlan> plans) {
        Model m = spec.restore();
        Model converted;
        if (m instanceof MultiLayerNetwork n) {
            MultiLayerNetwork c = SwitchableLayers.convert(n);
            for (PrecisionPlan p : plans) {
                p.applyTo(c);
            }
            converted = c;
        } else {
            ComputationGraph c = SwitchableLayers.convert((ComputationGraph) m);
            for (PrecisionPlan p : plans) {
                p.applyTo(c);
            }
            converted = c;
        }
        return ModelSpec.of(converted);
    }
}
