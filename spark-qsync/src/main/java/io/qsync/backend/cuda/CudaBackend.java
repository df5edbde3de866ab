package io.qsync.backend.cuda;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.CudaTensorOps;
import io.qsync.lowprec.train.TensorOps;
import io.qsync.runtime.EngineRequest;
import io.qsync.runtime.HostBatch;
import io.qsync.runtime.TrainingBackend;
import io.qsync.runtime.TrainingEngine;
import io.qsync.runtime.UnsupportedModelException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.deeplearning4j.nn.api.Model;

/**
 * {@code spark.qsync.backend=cuda}: the network compiled to a {@link Program} and trained device-resident by a
 * {@link ProgramEngine} on {@link CudaTensorOps} (NVRTC kernels, cuBLASLt GEMMs, one stream). FP32 so far (per-layer
 * precision plans are listed as unsupported). Usable when this process sees an NVIDIA driver and the CUDA 13
 * presets; preferred over the CPU backend by {@code auto}.
 */
public final class CudaBackend implements TrainingBackend {
    /** The backend's name. */
    public static final String NAME = "cuda";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.ofNullable(io.qsync.lowprec.cuda.CudaPresence.whyUnavailable());
    }

    @Override
    public List<String> unsupported(EngineRequest request) {
        List<String> problems = new ArrayList<>(planProblems(request));
        problems.addAll(ProgramCompiler.problems(request.model().restore()));
        return problems;
    }

    private static List<String> planProblems(EngineRequest request) {
        List<String> out = new ArrayList<>();
        if (request.plan() != null) {
            for (Map.Entry<String, Precision> e : request.plan().layers().entrySet()) {
                if (e.getValue() != Precision.FP32) {
                    out.add("layer '" + e.getKey() + "': precision " + e.getValue()
                            + " in the plan (the cuda backend trains " + "FP32 so far)");
                }
            }
        }
        return out;
    }

    /**
     * Compiles the network (every unsupported part listed before any device memory is taken), opens the device and
     * runs one step on a zero batch of {@code request.batchSize()} rows so that all device memory is taken at once.
     *
     * @throws IllegalStateException naming the batch size when the device runs out of memory
     */
    @Override
    public TrainingEngine open(EngineRequest request) {
        unavailableReason().ifPresent(why -> {
            throw new IllegalStateException("spark.qsync.backend=cuda cannot run in this process: " + why);
        });
        List<String> plan = planProblems(request);
        if (!plan.isEmpty()) {
            throw new UnsupportedModelException(NAME, plan);
        }
        Model model = request.model().restore();
        Program program = ProgramCompiler.compile(model, NAME);
        TensorOps ops = CudaTensorOps.open(request.device(), false);
        ProgramEngine engine = null;
        try {
            engine = ProgramEngine.open(model, ops, NAME, request.batchSize());
            int rows = request.batchSize();
            int outs = program.loss().out().size();
            engine.computeGradient(new HostBatch(
                    rows,
                    program.numFeatures(),
                    new float[rows * program.numFeatures()],
                    outs,
                    new float[rows * outs]));
            return engine;
        } catch (RuntimeException e) {
            if (engine != null) {
                engine.close();
            } else {
                ops.close();
            }
            if (String.valueOf(e.getMessage()).contains("out of memory")
                    || String.valueOf(e.getMessage()).contains("needs")) {
                throw new IllegalStateException(
                        "the cuda backend ran out of device memory for a local batch of "
                                + request.batchSize() + " examples (" + e.getMessage()
                                + "); lower the batch size (spark.qsync.batchSize) "
                                + "or use fewer layers at FP32 in the plan",
                        e);
            }
            throw e;
        }
    }
}
