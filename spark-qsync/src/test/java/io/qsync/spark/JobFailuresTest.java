package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.SparkException;
import org.junit.jupiter.api.Test;

/** Which failures become one line, and what that line says. */
class JobFailuresTest {

    @Test
    void anExecutorOutOfMemoryNamesTheSettingToRaise() {
        WorkerOutOfMemoryError oom = new WorkerOutOfMemoryError(
                1, "reading its partition of the training data", new OutOfMemoryError("Java heap space"));
        assertTrue(
                oom.getMessage().startsWith("worker 1 ran out of JVM heap (Java heap space, heap "), oom.getMessage());
        assertTrue(
                oom.getMessage()
                        .contains("while reading its partition of the training data: raise " + "spark.executor.memory"),
                oom.getMessage());
        // as the driver sees it: the executor's exception as text inside Spark's job failure
        SparkException job = new SparkException("Job aborted due to stage failure: Task 1 in stage 0.0 failed 1 times, "
                + "most recent failure: Lost task 1.0 (TID 1) (host executor 1): " + oom
                + "\n\tat io.qsync.spark.Foo.bar\n");
        assertEquals(oom.getMessage(), JobFailures.userMessage(job));
        assertEquals(
                "out of memory (Java heap space): " + JobFailures.RAISE_MEMORY,
                JobFailures.userMessage(new RuntimeException(new OutOfMemoryError("Java heap space"))));
        SparkException raw = new SparkException("Lost task 0.0: java.lang.OutOfMemoryError: Java heap space\n\tat x");
        assertEquals("java.lang.OutOfMemoryError: Java heap space", JobFailures.userMessage(raw));
    }

    @Test
    void badSettingsFromTheDriverOrAnExecutorAreOneLineAndBugsAreNot() {
        assertEquals(
                "invalid spark.qsync.epochs=0: must be an integer >= 1",
                JobFailures.userMessage(
                        new IllegalArgumentException("invalid spark.qsync.epochs=0: must be an integer >= 1")));
        SparkException fromExecutor = new SparkException(
                "Job aborted: Lost task 0.0: java.lang.IllegalArgumentException: "
                        + "column 'label': label 12 outside [0, 10); set numClasses\n\tat io.qsync.spark.RowShards.read");
        assertEquals("column 'label': label 12 outside [0, 10); set numClasses", JobFailures.userMessage(fromExecutor));
        assertNull(JobFailures.userMessage(new NullPointerException("bug")));
    }

    /**
     * A replica whose parameters drift by one ulp after its first update (a wrong kernel, a lost bit) fails the job at
     * the next replica check, which names the step, both checksums and the first differing parameter.
     */
    @Test
    void aDriftingReplicaFailsTheJobNamingTheFirstDifference() {
        AutoPlanTrainingTest.start();
        try {
            Exception e = org.junit.jupiter.api.Assertions.assertThrows(
                    Exception.class,
                    () -> AutoPlanTrainingTest.train(AutoPlanTrainingTest.settings(java.util.Map.of(
                            "spark.qsync.backend", "test-drifting", "spark.qsync.checksumEvery", "1"))));
            String msg = String.valueOf(e.getMessage());
            assertTrue(msg.contains("replicas diverged after step 1"), msg);
            assertTrue(msg.contains("the first at parameter " + DriftingTestBackend.DRIFT_INDEX), msg);
        } finally {
            AutoPlanTrainingTest.stop();
        }
    }
}
