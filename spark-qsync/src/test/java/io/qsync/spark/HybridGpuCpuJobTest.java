package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.cuda.CudaPresence;
import io.qsync.planner.report.ClusterPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One GPU worker and one CPU worker in one {@code plan=auto} job ({@code spark.qsync.device.cpuWorkers=1},
 * {@code spark.qsync.backend=auto}), the GPU's measured profile from {@code benchmarks/profiles}, the CPU profiled
 * inside the job. On a GPU machine rank 0 trains on the card it sees (type {@code h100}/{@code h200}, discovered);
 * without one (CI) rank 0 is named {@code h100} by {@code spark.qsync.plan.devices} and emulates it on the CPU. With
 * the advice reported only, both replicas train and stay bitwise identical; with it followed, the job trains what
 * the planner chose (a CPU next to an H100 is left out). The planner's verdict is printed with its numbers.
 */
class HybridGpuCpuJobTest {
    @BeforeAll
    static void start() {
        AutoPlanTrainingTest.start(); // its local[2] session and 512 Fashion-MNIST rows
    }

    @AfterAll
    static void stop() {
        AutoPlanTrainingTest.stop();
    }

    private static Map<String, String> hybrid(Path out, boolean rebalance) {
        Map<String, String> s = new HashMap<>(Map.of(
                "spark.qsync.plan",
                "auto",
                "spark.qsync.plan.outDir",
                out.toString(),
                "spark.qsync.plan.profilesDir",
                Path.of("..", "benchmarks", "profiles").toString(),
                "spark.qsync.plan.rebalance",
                Boolean.toString(rebalance),
                "spark.qsync.device.cpuWorkers",
                "1",
                "spark.qsync.backend",
                "auto"));
        if (CudaPresence.whyUnavailable() != null) {
            s.put("spark.qsync.plan.devices", "h100,"); // rank 0 stands in for the GPU; rank 1 keeps its CPU type
        }
        return AutoPlanTrainingTest.settings(s);
    }

    @Test
    void aGpuWorkerAndACpuWorkerTrainIdenticalReplicasAndTheVerdictHasItsNumbers(@TempDir Path dir) throws Exception {
        TrainJob.Result both = AutoPlanTrainingTest.train(hybrid(dir.resolve("reported"), false));
        System.out.println("GPU + CPU worker, advice reported only: " + both.verdict());
        assertEquals(2, both.replicaChecksums().length, "both workers train when the advice is only reported");
        assertEquals(both.replicaChecksums()[0], both.replicaChecksums()[1], "GPU and CPU replicas bitwise identical");
        assertTrue(both.verdict().matches(".*predicted iteration [0-9.]+ ms, [0-9.]+ samples/s.*"), both.verdict());
        List<String[]> devices = AutoPlanTrainingTest.devices(dir.resolve("reported"));
        assertTrue(
                devices.get(0)[1].startsWith("profilesDir "), "the GPU type's measured profile: " + devices.get(0)[1]);
        assertEquals("measured in the job on rank 1", devices.get(1)[1], "the CPU worker is profiled in the job");
        assertTrue(devices.get(1)[0].startsWith("cpu-"), devices.get(1)[0]);

        TrainJob.Result advised = AutoPlanTrainingTest.train(hybrid(dir.resolve("advised"), true));
        System.out.println("GPU + CPU worker, advice followed: " + advised.verdict());
        ClusterPlan trained =
                ClusterPlan.fromJson(Files.readString(dir.resolve("advised").resolve("plan.json")));
        assertEquals(
                trained.devices().values().stream().mapToInt(d -> d.workers()).sum(),
                advised.replicaChecksums().length,
                "the job trains the workers of the plan it followed: " + advised.verdict());
        if (advised.verdict().contains("LEAVE_OUT") || advised.verdict().contains(": DB")) {
            assertTrue(Files.exists(dir.resolve("advised").resolve("plan-qsync.json")), "the quantized plan is kept");
        }
    }

    /**
     * The GPU worker's code path (the program engine, here on the host ops: {@link HostProgramTestBackend}) and a
     * DL4J CPU worker in one job over the TCP ring, replicas compared after every step: FP32 both, then the
     * program-engine worker on a mixed plan from a plan file.
     */
    @Test
    void theProgramEngineAndDl4jStayIdenticalStepByStepInOneJob() {
        Map<String, String> s = AutoPlanTrainingTest.settings(Map.of(
                "spark.qsync.backend", "test-hostprogram",
                "spark.qsync.device.cpuWorkers", "1",
                "spark.qsync.checksumEvery", "1"));
        TrainJob.Result r = AutoPlanTrainingTest.train(s);
        assertEquals(2, r.replicaChecksums().length);
        assertEquals(r.replicaChecksums()[0], r.replicaChecksums()[1], "program engine and DL4J replicas");
        // the CLI's networks come with precision-switchable layers (FP32 until a plan lowers them)
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork net =
                new org.deeplearning4j.nn.multilayer.MultiLayerNetwork(io.qsync.models.DemoModels.fashionCnn(7, 2e-3));
        net.init();
        TrainJob.Result sw = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                java.time.Duration.ofMinutes(5),
                () -> TrainJob.train(
                        SparkSession.active(),
                        AutoPlanTrainingTest.frame(),
                        io.qsync.runtime.ModelSpec.of(io.qsync.lowprec.layers.SwitchableLayers.convert(net)),
                        TrainSettings.from(s),
                        TrainOptions.none()));
        assertEquals(sw.replicaChecksums()[0], sw.replicaChecksums()[1], "switchable layers: program engine and DL4J");
    }
}
