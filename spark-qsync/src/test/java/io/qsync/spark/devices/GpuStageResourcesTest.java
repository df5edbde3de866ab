package io.qsync.spark.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.SparkConf;
import org.apache.spark.resource.ResourceProfile;
import org.junit.jupiter.api.Test;

/**
 * When the training stage asks for GPUs with stage-level scheduling (one worker per executor and GPU while the ETL
 * stages share the GPU), and when it does not.
 */
class GpuStageResourcesTest {
    private static SparkConf gpus(String executorGpus, String cores, String taskGpus) {
        SparkConf c = new SparkConf(false);
        if (executorGpus != null) {
            c.set("spark.executor.resource.gpu.amount", executorGpus);
        }
        if (cores != null) {
            c.set("spark.executor.cores", cores);
        }
        if (taskGpus != null) {
            c.set("spark.task.resource.gpu.amount", taskGpus);
        }
        return c;
    }

    @Test
    void aSharedGpuPerExecutorGetsOneWorkerWithMostOfTheCores() {
        GpuStageResources.Decision d =
                GpuStageResources.decide(gpus("1", "8", "0.125"), "spark://master:7077", "4.0.1");
        assertTrue(d.profile().isPresent(), d.reason());
        ResourceProfile rp = d.profile().get();
        assertEquals(1.0, rp.taskResources().get("gpu").get().amount(), 0);
        assertEquals(5.0, rp.taskResources().get("cpus").get().amount(), 0, "8 / 2 + 1 cores: one task per executor");
        assertTrue(
                GpuStageResources.decide(gpus("1", "4", null), "yarn", "3.5.4")
                        .profile()
                        .isPresent(),
                "task amount unset: ETL takes no GPU, training asks for it");
    }

    @Test
    void nothingToAskWhereSparkAlreadyGivesEachTaskItsGpuOrCannotSchedule() {
        assertEquals(
                "master local[2] has no stage-level scheduling of task resources",
                GpuStageResources.decide(gpus("1", "8", "0.5"), "local[2]", "4.0.1")
                        .reason());
        assertTrue(GpuStageResources.decide(gpus("1", "8", "0.5"), "spark://m:7077", "3.3.2")
                .reason()
                .contains("< 3.4"));
        assertTrue(GpuStageResources.decide(gpus(null, "8", null), "yarn", "4.0.1")
                .reason()
                .contains("no GPUs requested"));
        assertTrue(GpuStageResources.decide(gpus("2", "8", "0.5"), "yarn", "4.0.1")
                .reason()
                .contains("one GPU per executor"));
        assertTrue(GpuStageResources.decide(gpus("1", "1", "0.5"), "k8s://x", "4.0.1")
                .reason()
                .contains("one task per executor"));
        assertTrue(GpuStageResources.decide(gpus("1", "8", "1"), "yarn", "4.0.1")
                .reason()
                .contains("already has a GPU"));
    }
}
