package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.models.DemoModels;
import io.qsync.planner.report.ClusterPlan;
import io.qsync.runtime.ModelSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spark.qsync.plan=auto} on {@code local[2]}: two ranks of different device types (the second named by
 * {@code spark.qsync.plan.devices}, low precision emulated on the CPU) are probed, profiled inside the job, planned for
 * and trained with the plan the job made: the same job run from the written plan.json ends bitwise equal.
 */
class AutoPlanTrainingTest {
    private static SparkSession spark;
    private static Dataset<Row> frame;

    @BeforeAll
    static void start() {
        spark = SparkTestSession.start("auto-plan-test");
        frame = ImageFrames.toFrame(
                        spark, FashionMnist.load(FashionMnist.Split.TRAIN).head(512), 2)
                .cache();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** The 512 Fashion-MNIST rows of the session. */
    static Dataset<Row> frame() {
        return frame;
    }

    static Map<String, String> settings(Map<String, String> extra) {
        Map<String, String> s = new HashMap<>();
        s.put("spark.qsync.numWorkers", "2");
        s.put("spark.qsync.batchSize", "64");
        s.put("spark.qsync.shuffle", "false");
        s.put("spark.qsync.progress", "false");
        s.put("spark.qsync.plan.profileSteps", "1");
        s.put("spark.qsync.plan.warmupSteps", "2");
        s.put("spark.qsync.comm.connectTimeout", "30s");
        s.put("spark.qsync.comm.ioTimeout", "30s");
        s.putAll(extra);
        return s;
    }

    static TrainJob.Result train(Map<String, String> settings) {
        return assertTimeoutPreemptively(
                Duration.ofMinutes(5),
                () -> TrainJob.train(
                        spark,
                        frame,
                        ModelSpec.fromJson(DemoModels.fashionCnn(7, 2e-3).toJson()),
                        TrainSettings.from(settings),
                        TrainOptions.none()));
    }

    /** Device types by rank and each type's profile source, from devices.json. */
    static List<String[]> devices(Path dir) throws Exception {
        List<String[]> out = new ArrayList<>();
        for (JsonNode d : new ObjectMapper().readTree(Files.readString(dir.resolve("devices.json")))) {
            out.add(new String[] {
                d.get("device").get("type").asText(), d.get("profile").asText()
            });
        }
        return out;
    }

    @Test
    void twoDeviceTypesAreProfiledPlannedAndTrainedWithThePlanTheJobMade(@TempDir Path dir) throws Exception {
        Path planDir = dir.resolve("plan");
        TrainJob.Result auto = train(settings(Map.of(
                "spark.qsync.plan", "auto",
                "spark.qsync.plan.outDir", planDir.toString(),
                "spark.qsync.plan.devices", ",small-cpu")));
        List<String[]> devices = devices(planDir);
        assertEquals("small-cpu", devices.get(1)[0], "rank 1's type is named by spark.qsync.plan.devices");
        assertTrue(devices.get(0)[0].startsWith("cpu-"), "rank 0's type is discovered: " + devices.get(0)[0]);
        assertEquals("measured in the job on rank 0", devices.get(0)[1]);
        assertEquals("measured in the job on rank 1", devices.get(1)[1]);
        assertTrue(auto.verdict().contains("samples/s"), auto.verdict());
        // both ranks trained synchronized steps together in the probe stage, and the profiles were set beside them
        for (JsonNode d : new ObjectMapper().readTree(Files.readString(planDir.resolve("devices.json")))) {
            JsonNode configs = d.get("coRun");
            assertEquals(1, configs.size(), "no GPU rank: one configuration (FP32) " + configs);
            JsonNode co = configs.get(0);
            assertEquals(
                    "",
                    co.get("error").asText(),
                    "co-run of rank " + d.get("device").get("rank"));
            assertEquals("FP32", co.get("precision").asText(), "CPU workers co-run at FP32");
            assertTrue(
                    co.get("computeMs").asDouble() > 0
                            && co.get("stepMs").asDouble()
                                    >= co.get("computeMs").asDouble(),
                    co.toString());
        }
        String report = Files.readString(planDir.resolve("plan.txt"));
        assertTrue(report.contains("Profiles co-run of 2 ranks (32 rows each)"), report);
        assertTrue(report.contains("applied to the profiles") || report.contains("not applied"), report);
        assertEquals(planDir, auto.planDir());
        for (String f : List.of("plan.json", "plan.txt", "report.html", "measured.json")) {
            assertTrue(Files.exists(planDir.resolve(f)), f);
        }
        // the job checks its own planner: the plan's prediction against the last epoch's median step
        PlanCheck check = auto.planCheck();
        ClusterPlan trained = ClusterPlan.fromJson(Files.readString(planDir.resolve("plan.json")));
        assertEquals(trained.clusterMillis(), check.predictedMillis(), 1e-9);
        assertEquals(auto.history().epochs().get(0).medianStepMillis(), check.measuredMillis(), 1e-9);
        assertEquals(
                100 * (check.predictedMillis() - check.measuredMillis()) / check.measuredMillis(),
                check.errorPercent(),
                1e-9);
        assertTrue(Files.readString(planDir.resolve("measured.json")).contains("\"errorPercent\""));
        // and each rank's compute and exposed exchange, predicted against measured, name the term a miss is in
        assertEquals(2, check.ranks().size(), check.describeRanks());
        for (PlanCheck.RankCheck r : check.ranks()) {
            assertEquals(devices.get(r.rank())[0], r.type());
            assertTrue(r.predictedComputeMillis() > 0 && r.measuredComputeMillis() > 0, r.toString());
            assertTrue(r.predictedExchangeMillis() >= 0 && r.measuredExchangeMillis() >= 0, r.toString());
            assertEquals(
                    check.predictedMillis(),
                    r.predictedComputeMillis() + r.predictedExchangeMillis(),
                    1e-3,
                    "every rank's predicted compute and exposed exchange (wait included) make up the iteration: " + r);
        }
        assertTrue(Files.readString(planDir.resolve("measured.json")).contains("\"measuredExchangeMillis\""));
        // the profiles measured in the job are kept as a profiles directory for the next job
        java.util.Set<String> shelved =
                new ProfileShelf(planDir.resolve("profiles").toString()).knownTypes();
        for (String[] d : devices) {
            assertTrue(shelved.contains(d[0].toLowerCase(java.util.Locale.ROOT)), d[0] + " not in " + shelved);
        }
        // the report predicts the baselines a hybrid run is measured against
        String txt = Files.readString(planDir.resolve("plan.txt"));
        assertTrue(txt.contains("All FP32: ") && txt.contains("small-cpu alone (1 worker(s) x 64 examples)"), txt);
        // the plan it trained with, bound to the ranks it kept; training from that file must end bitwise equal
        ClusterPlan plan = ClusterPlan.fromJson(Files.readString(planDir.resolve("plan.json")));
        List<String> kept = devices.stream()
                .map(d -> d[0])
                .filter(plan.devices()::containsKey)
                .toList();
        assertEquals(kept.size(), auto.replicaChecksums().length, "one replica per kept rank");
        for (long c : auto.replicaChecksums()) {
            assertEquals(auto.replicaChecksums()[0], c, "replicas bitwise identical");
        }
        Map<String, String> fromFile = settings(Map.of(
                "spark.qsync.plan.file", planDir.resolve("plan.json").toString(),
                "spark.qsync.plan.devices", String.join(",", kept)));
        fromFile.put("spark.qsync.numWorkers", Integer.toString(kept.size()));
        TrainJob.Result replay = train(fromFile);
        assertEquals(auto.replicaChecksums()[0], replay.replicaChecksums()[0], "plan=auto trained with its plan.json");
    }

    @Test
    void autoAndAPlanFileTogetherAreRefusedNamingBoth() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> TrainSettings.from(
                        settings(Map.of("spark.qsync.plan", "auto", "spark.qsync.plan.file", "/tmp/plan.json"))));
        assertTrue(
                e.getMessage().contains("spark.qsync.plan=auto")
                        && e.getMessage().contains("plan.file"),
                e.getMessage());
        // 63 rows over 2 workers are checked when the job starts
        IllegalArgumentException uneven = assertThrows(
                IllegalArgumentException.class,
                () -> TrainJob.train(
                        spark,
                        frame,
                        ModelSpec.fromJson(DemoModels.fashionCnn(7, 2e-3).toJson()),
                        TrainSettings.from(settings(Map.of("spark.qsync.plan", "auto", "spark.qsync.batchSize", "63"))),
                        TrainOptions.none()));
        assertTrue(uneven.getMessage().contains("multiple of spark.qsync.numWorkers"), uneven.getMessage());
    }
}
