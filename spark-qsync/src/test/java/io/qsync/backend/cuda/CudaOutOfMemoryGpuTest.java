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
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Batches the cuda backend cannot hold: one clear error naming the batch size, the plan and the setting to change
 * (not a JVM crash), and the device stays usable for the next engine. Its own class (its own JVM on the GPU machine):
 * a failed engine of several hundred GB must not share a process with the parity checks. Skipped with a message where this process
 * sees no CUDA device.
 */
class CudaOutOfMemoryGpuTest {

    @BeforeEach
    void needsDevice() {
        String why = CudaPresence.whyUnavailable();
        Assumptions.assumeTrue(why == null, () -> "CudaOutOfMemoryGpuTest skipped: " + why);
    }

    /** The demo CNN with conv_1 at FP16. */
    private static IllegalStateException failure(int rows) {
        IllegalStateException e = failure(
                ModelSpec.of(EngineParity.init(DemoModels.fashionCnn(1, 1e-3))),
                new PrecisionPlan(Map.of("conv_1", Precision.FP16)),
                rows);
        assertTrue(e.getMessage().contains("conv_1=FP16"), e.getMessage());
        return e;
    }

    private static IllegalStateException failure(ModelSpec model, PrecisionPlan plan, int rows) {
        EngineRequest huge = new EngineRequest(model, plan, 0, 0, rows);
        IllegalStateException e = assertTimeoutPreemptively(
                Duration.ofMinutes(2),
                () -> assertThrows(
                        IllegalStateException.class,
                        () -> Backends.select("cuda", huge).open(huge).close()));
        System.out.println("CUDA engine, local batch " + rows + ": " + e.getMessage());
        assertTrue(e.getMessage().contains("local batch of " + rows), e.getMessage());
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

    /**
     * 20 dense layers of 4096 at 500 000 rows: every tensor stays under 2^31 elements (8 GB), but together they need
     * several hundred GB of device memory.
     */
    @Test
    void deviceOutOfMemoryIsAClearError() {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder()
                .seed(1)
                .updater(new Sgd(1e-3))
                .list();
        for (int i = 0; i < 20; i++) {
            b.layer(new DenseLayer.Builder()
                    .nIn(i == 0 ? 784 : 4096)
                    .nOut(4096)
                    .activation(Activation.RELU)
                    .build());
        }
        b.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nIn(4096)
                .nOut(10)
                .activation(Activation.SOFTMAX)
                .build());
        IllegalStateException e = failure(ModelSpec.of(EngineParity.init(b.build())), null, 500_000);
        assertTrue(e.getMessage().contains("all FP32"), e.getMessage());
        assertTrue(e.getMessage().contains("out of memory") || e.getMessage().contains("needs"), e.getMessage());
        deviceStillTrains();
    }

    /** 300 000 rows of the demo CNN: conv_0's output alone would be 2.8e9 elements, more than a kernel addresses. */
    @Test
    void aTensorBeyondWhatOneKernelAddressesIsAClearError() {
        IllegalStateException e = failure(300_000);
        assertTrue(e.getMessage().contains("elements"), e.getMessage());
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
