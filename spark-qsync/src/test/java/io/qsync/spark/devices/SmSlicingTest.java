package io.qsync.spark.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** SM slices in one process need more hardware work queues than CUDA's default: the worker says so and how to fix it. */
class SmSlicingTest {
    @Test
    void fewerThan32WorkQueuesGetAdviceNamingTheVariableAndTheSparkSetting() {
        for (String value : new String[] {null, "8", "16", "not a number"}) {
            String advice = SmSlicing.queueAdvice(value).orElseThrow();
            assertTrue(
                    advice.contains("CUDA_DEVICE_MAX_CONNECTIONS=32")
                            && advice.contains("spark.executorEnv.CUDA_DEVICE_MAX_CONNECTIONS=32"),
                    advice);
            assertTrue(advice.contains(value == null ? "unset (8)" : value), advice);
        }
        assertTrue(SmSlicing.queueAdvice("16").orElseThrow().contains("over 16 hardware work queues"));
        assertEquals(Optional.empty(), SmSlicing.queueAdvice("32"));
        assertEquals(Optional.empty(), SmSlicing.queueAdvice(" 32 "));
    }
}
