package io.qsync.spark;

import io.qsync.runtime.TrainingBackend;
import java.util.Optional;

/**
 * What the tests' backends share: always usable, and never chosen by {@code spark.qsync.backend=auto} (lowest
 * priority); a job names them explicitly.
 */
abstract class TestBackend implements TrainingBackend {
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
    public final int priority() {
        return -100;
    }

    @Override
    public final Optional<String> unavailableReason() {
        return Optional.empty();
    }
}
