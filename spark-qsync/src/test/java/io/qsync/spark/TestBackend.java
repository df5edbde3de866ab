package io.qsync.spark;

import io.qsync.backend.cpu.CpuBackend;
import io.qsync.runtime.EngineRequest;
import io.qsync.runtime.TrainingBackend;
import io.qsync.runtime.TrainingEngine;
import java.util.List;
import java.util.Optional;

/**
 * What the tests' backends share: always usable, never chosen by {@code spark.qsync.backend=auto} (lowest priority; a
 * job names them explicitly), and DL4J on the CPU ({@link CpuBackend}) for what a subclass does not change.
 */
abstract class TestBackend implements TrainingBackend {
    /** The CPU backend the test backends build on. */
    protected final CpuBackend cpu = new CpuBackend();

    private final String name;

    /** @param name the value of {@code spark.qsync.backend} that selects it */
    TestBackend(String name) {
        this.name = name;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public List<String> unsupported(EngineRequest request) {
        return cpu.unsupported(request);
    }

    @Override
    public TrainingEngine open(EngineRequest request) {
        return cpu.open(request);
    }

    @Override
    public final int priority() {
        return -100;
    }

    @Override
    public final Optional<String> unavailableReason() {
        return Optional.empty();
    }
}
