package io.qsync.spark;

import io.qsync.backend.cuda.CudaBackend;
import io.qsync.backend.cuda.ProgramCompiler;
import io.qsync.backend.cuda.ProgramEngine;
import io.qsync.lowprec.train.HostOps;
import io.qsync.runtime.EngineRequest;
import io.qsync.runtime.TrainingEngine;
import java.util.List;

/**
 * A test backend ({@code spark.qsync.backend=test-hostprogram}): the CUDA backend's program engine on the host
 * reference ops, opened as {@link CudaBackend} opens it ({@link CudaBackend#planned}, then
 * {@link ProgramEngine#takeMemoryFor}). It puts the GPU worker's code path, minus the device, into real Spark jobs beside CPU workers.
 */
public final class HostProgramTestBackend extends TestBackend {

    /** Selected by {@code spark.qsync.backend=test-hostprogram}. */
    public HostProgramTestBackend() {
        super("test-hostprogram");
    }

    @Override
    public List<String> unsupported(EngineRequest request) {
        return ProgramCompiler.problems(CudaBackend.planned(request));
    }

    @Override
    public TrainingEngine open(EngineRequest request) {
        ProgramEngine e = ProgramEngine.open(CudaBackend.planned(request), new HostOps(), name(), request.batchSize());
        e.takeMemoryFor(request.batchSize());
        return e;
    }
}
