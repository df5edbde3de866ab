package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.lowprec.Precision;
import io.qsync.models.DemoModels;
import io.qsync.planner.report.ClusterPlan;
import io.qsync.planner.report.DevicePlan;
import io.qsync.runtime.ModelSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training with a cluster plan from the planner: per-device precisions and batch shares in a real barrier stage. */
class ClusterPlanTrainingTest {
    private static SparkSession spark;
    private static Dataset<Row> frame;

    @BeforeAll
    static void start() {
        spark = SparkTestSession.start("cluster-plan-test");
        frame = ImageFrames.toFrame(
                        spark, FashionMnist.load(FashionMnist.Split.TRAIN).head(1024), 2)
                .cache();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** V100 trains FP32 on 48 rows per step, T4 runs conv_0/dense_0 in INT8 and conv_1 in FP16 on 16 rows. */
    static ClusterPlan plan() {
        Map<String, DevicePlan> d = new LinkedHashMap<>();
        d.put(
                "V100",
                new DevicePlan(
                        "V100",
                        true,
                        1,
                        48,
                        0.75,
                        Map.of("conv_0", Precision.FP32, "conv_1", Precision.FP32, "dense_0", Precision.FP32)));
        d.put(
                "T4",
                new DevicePlan(
                        "T4",
                        true,
                        1,
                        16,
                        0.25,
                        Map.of("conv_0", Precision.INT8, "conv_1", Precision.FP16, "dense_0", Precision.INT8)));
        return new ClusterPlan("fashion-cnn", d, 1, 1, 1, "QSYNC", "");
    }

    private static TrainSettings settings(int batch, Map<String, String> extra) {
        Map<String, String> s = new HashMap<>(extra);
        s.put("spark.qsync.numWorkers", "2");
        s.put("spark.qsync.batchSize", Integer.toString(batch));
        s.put("spark.qsync.shuffle", "false");
        s.put("spark.qsync.progress", "false");
        s.put("spark.qsync.comm.connectTimeout", "20s");
        s.put("spark.qsync.comm.ioTimeout", "20s");
        return TrainSettings.from(s);
    }

    @Test
    void weightedPartitionsFollowTheBatchShares() {
        long[] sizes = BarrierInput.prepare(frame, 2, List.of(48, 16))
                .toJavaRDD()
                .mapPartitions(rows -> {
                    long n = 0;
                    while (rows.hasNext()) {
                        rows.next();
                        n++;
                    }
                    return List.of(n).iterator();
                })
                .collect()
                .stream()
                .mapToLong(Long::longValue)
                .toArray();
        assertEquals(768, sizes[0], "rank 0 (weight 48 of 64) gets 3/4 of 1024 rows");
        assertEquals(256, sizes[1]);
    }

    @Test
    void planFileTrainsEachDeviceTypeAtItsPrecisionsAndShare(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("plan.json");
        Files.writeString(file, plan().toJson());
        ModelSpec spec = ModelSpec.fromJson(DemoModels.fashionCnn(7, 2e-3).toJson());
        TrainJob.Result fromFile = assertTimeoutPreemptively(
                Duration.ofMinutes(3),
                () -> TrainJob.train(
                        spark,
                        frame,
                        spec,
                        settings(
                                64,
                                Map.of(
                                        "spark.qsync.plan.file",
                                        file.toString(),
                                        "spark.qsync.plan.devices",
                                        "T4,V100")),
                        TrainOptions.none()));
        long[] sums = fromFile.replicaChecksums();
        assertEquals(sums[0], sums[1], "replicas stay bitwise identical under different plans");
        assertEquals(16, fromFile.history().stepLosses().length, "1024 rows / global batch 64");
        float[] loss = fromFile.history().stepLosses();
        assertTrue(loss[loss.length - 1] < loss[0], "loss falls: " + loss[0] + " -> " + loss[loss.length - 1]);

        // the same job through the programmatic API: bitwise the same parameters
        ClusterPlanBinding b = ClusterPlanBinding.of(plan(), List.of("T4", "V100"), 2, 64);
        assertEquals(List.of(16, 48), b.batchWeights());
        TrainJob.Result direct = TrainJob.train(
                spark, frame, spec, settings(64, Map.of()), TrainOptions.none().withClusterPlan(b));
        assertTrue(fromFile.model().params().equals(direct.model().params()), "plan file == withClusterPlan");

        // and not the FP32 job with equal shares: the plan really changed precisions and shares
        TrainJob.Result fp32 = TrainJob.train(spark, frame, spec, settings(64, Map.of()), TrainOptions.none());
        assertTrue(!fp32.model().params().equals(fromFile.model().params()), "the plan changes the training");
    }

    @Test
    void mismatchedPlansFailBeforeLaunchingNamingTheSetting(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("plan.json");
        Files.writeString(file, plan().toJson());
        ModelSpec spec = ModelSpec.fromJson(DemoModels.fashionCnn(7, 2e-3).toJson());
        var wrongType = assertThrows(
                IllegalArgumentException.class,
                () -> TrainJob.train(
                        spark,
                        frame,
                        spec,
                        settings(
                                64,
                                Map.of(
                                        "spark.qsync.plan.file",
                                        file.toString(),
                                        "spark.qsync.plan.devices",
                                        "A10,V100")),
                        TrainOptions.none()));
        assertTrue(
                wrongType.getMessage().contains("spark.qsync.plan.devices")
                        && wrongType.getMessage().contains("A10")
                        && wrongType.getMessage().contains("[V100, T4]"),
                wrongType.getMessage());
        var twoT4 = assertThrows(
                IllegalArgumentException.class, () -> ClusterPlanBinding.of(plan(), List.of("T4", "T4"), 2, 64));
        assertTrue(
                twoT4.getMessage().contains("1 worker(s) of type V100")
                        && twoT4.getMessage().contains("names 0"),
                twoT4.getMessage());
        var batch = assertThrows(
                IllegalArgumentException.class,
                () -> TrainJob.train(
                        spark,
                        frame,
                        spec,
                        settings(
                                128,
                                Map.of(
                                        "spark.qsync.plan.file",
                                        file.toString(),
                                        "spark.qsync.plan.devices",
                                        "T4,V100")),
                        TrainOptions.none()));
        assertTrue(batch.getMessage().contains("spark.qsync.batchSize=64"), batch.getMessage());
        var missing = assertThrows(
                IllegalArgumentException.class,
                () -> TrainJob.train(
                        spark,
                        frame,
                        spec,
                        settings(
                                64,
                                Map.of(
                                        "spark.qsync.plan.file",
                                        dir.resolve("nope.json").toString(),
                                        "spark.qsync.plan.devices",
                                        "T4,V100")),
                        TrainOptions.none()));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        var noDevices = assertThrows(
                IllegalArgumentException.class, () -> settings(64, Map.of("spark.qsync.plan.file", file.toString())));
        assertTrue(noDevices.getMessage().contains("spark.qsync.plan.devices"), noDevices.getMessage());
        var count =
                assertThrows(IllegalArgumentException.class, () -> ClusterPlanBinding.of(plan(), List.of("T4"), 2, 64));
        assertTrue(count.getMessage().contains("spark.qsync.numWorkers=2"), count.getMessage());
    }
}
