package io.qsync.backend.cpu;

import io.qsync.runtime.EngineRequest;
import io.qsync.runtime.TrainingBackend;
import io.qsync.runtime.TrainingEngine;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code spark.qsync.backend=cpu}: DL4J on ND4J's CPU backend ({@link CpuEngine}). Trains any DL4J network; precision
 * plans run as exact emulation. Always usable, lowest priority for {@code auto}.
 */
public final class CpuBackend implements TrainingBackend {
    /** The backend's name. */
    public static final String NAME = "cpu";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    @Override
    public List<String> unsupported(EngineRequest request) {
        return List.of();
    }

    /** Restores the network, applies the plan and sets ND4J's native thread pools to {@code request.threads()}. */
    @Override
    public TrainingEngine open(EngineRequest request) {
        // OpenMP (libnd4j) and OpenBLAS pools are per JVM; oversubscribed spinning threads cost 3-4x
        Nd4j.getEnvironment().setMaxMasterThreads(request.threads());
        Nd4j.getEnvironment().setMaxThreads(request.threads());
        Nd4j.factory().blas().setMaxThreads(request.threads());
        Model model = request.model().restore();
        if (request.plan() != null) {
            if (model instanceof MultiLayerNetwork m) {
                request.plan().applyTo(m);
            } else {
                request.plan().applyTo((ComputationGraph) model);
            }
        }
        return CpuEngine.of(model);
    }
}
