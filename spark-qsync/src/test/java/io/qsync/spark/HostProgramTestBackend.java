package io.qsync.spark;

import io.qsync.backend.cuda.ProgramCompiler;
import io.qsync.backend.cuda.ProgramEngine;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.lowprec.train.HostOps;
import io.qsync.runtime.EngineRequest;
import io.qsync.runtime.HostBatch;
import io.qsync.runtime.TrainingEngine;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A test backend ({@code spark.qsync.backend=test-hostprogram}): the CUDA backend's program engine on the host
 * reference ops, opened as {@code CudaBackend} opens it (plan applied to the switchable network, one warm-up step on a
 * zero batch of Fashion-MNIST's shape). It puts the GPU worker's code path, minus the device, into real Spark jobs beside CPU workers.
 */
public final class HostProgramTestBackend extends TestBackend {

    /** Selected by {@code spark.qsync.backend=test-hostprogram}. */
    public HostProgramTestBackend() {
        super("test-hostprogram");
    }

    @Override
    public List<String> unsupported(EngineRequest request) {
        return ProgramCompiler.problems(planned(request));
    }

    @Override
    public TrainingEngine open(EngineRequest request) {
        ProgramEngine e = ProgramEngine.open(planned(request), new HostOps(), name(), request.batchSize());
        int rows = request.batchSize();
        int f = 28 * 28; // the jobs of these tests train on Fashion-MNIST
        int outs = 10;
        e.computeGradient(new HostBatch(rows, f, new float[rows * f], outs, new float[rows * outs]));
        return e;
    }

    private static Model planned(EngineRequest request) {
        Model model = request.model().restore();
        if (request.plan() == null || request.plan().layers().isEmpty()) {
            return model;
        }
        if (model instanceof MultiLayerNetwork m) {
            MultiLayerNetwork c = SwitchableLayers.convert(m);
            request.plan().applyTo(c);
            return c;
        }
        ComputationGraph c = SwitchableLayers.convert((ComputationGraph) model);
        request.plan().applyTo(c);
        return c;
    }
}
