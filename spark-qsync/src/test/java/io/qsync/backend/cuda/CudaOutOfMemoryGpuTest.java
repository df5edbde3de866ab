package io.qsync.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.CudaPresence;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.models.DemoModels;
import io.qsync.runtime.Backends;
import io.qsync.runtime.EngineRequest;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.TrainingEngine;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Batches the cuda backend cannot hold: one clear error naming the batch size, the plan and the setting to change
 * (not a JVM crash), and the device stays usable for the next engine. Its own class (its own JVM on the GPU machine):
 * a failed 100-GB engine must not share a process with the parity checks. Skipped with a message where this process
 * sees no CUDA device.
 */
class CudaOutOfMemoryGpuTest {

    @BeforeEach
    void needsDevice() {
        String why = CudaPresence.whyUnavailable();
        Assumptions.assumeTrue(why == null, () -> "CudaOutOfMemoryGpuTest skipped: " + why);
    }

    private static IllegalStateException failure(int rows) {
        EngineRequest huge = new EngineRequest(
                ModelSpec.of(EngineParity.init(DemoModels.fashionCnn(1, 1e-3))),
                new PrecisionPlan(Map.of("conv_1", Precision.FP16)),
                0,
                0,
                rows);
        IllegalStateException e = assertTimeoutPreemptively(
                Duration.ofMinutes(2),
                () -> assertThrows(
                        IllegalStateException.class,
                        () -> Backends.select("cuda", huge).open(huge).close()));
        System.out.println("CUDA engine, local batch " + rows + ": " + e.getMessage());
        assertTrue(e.getMessage().contains("local batch of " + rows), e.getMessage());
        assertTrue(e.getMessage().contains("conv_1=FP16"), e.getMessage());
        assertTrue(e.getMessage().contains("spark.qsync.batchSize"), e.getMessage());
        return e;
    }

    private static void deviceStillTrains() {
        EngineRequest ok =
                new EngineRequest(ModelSpec.of(EngineParity.init(DemoModels.fashionCnn(1, 1e-3))), null, 0, 0, 64);
        assertTimeoutPreemptively(Duration.ofMinutes(1), () -> {
            try (TrainingEngine t = Backends.select("cuda", ok).open(ok)) {
                double loss = t.computeGradient(EngineParity.batch(0, 64));
                assertTrue(loss > 0 && Double.isFinite(loss), "loss after a failed engine: " + loss);
            }
        });
    }

    /** 600 000 rows: ~1.9 GB of input, but well over 150 GB of activations and columns on the device. */
    @Test
    void deviceOutOfMemoryIsAClearError() {
        IllegalStateException e = failure(600_000);
        assertTrue(e.getMessage().contains("out of memory"), e.getMessage());
        deviceStillTrains();
    }

    /** 1 000 000 rows: the input alone is more than one host staging buffer holds. */
    @Test
    void aBatchBeyondTheHostStagingBufferIsAClearError() {
        IllegalStateException e = failure(1_000_000);
        assertTrue(e.getMessage().contains("2 GiB"), e.getMessage());
        deviceStillTrains();
    }
}
