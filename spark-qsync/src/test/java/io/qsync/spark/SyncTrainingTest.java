package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.data.LabeledImages;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.models.DemoModels;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.StepListener;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.api.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Synchronous training in a real Spark barrier stage (local[2]) against plain single-process DL4J. */
class SyncTrainingTest {
    private static SparkSession spark;
    private static LabeledImages images;

    @BeforeAll
    static void start() {
        spark = SparkTestSession.start("sync-training-test");
        images = FashionMnist.load(FashionMnist.Split.TRAIN).head(2000);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static TrainSettings settings(int workers, int batch, int epochs, int checksumEvery) {
        Map<String, String> s = new HashMap<>();
        s.put("spark.qsync.numWorkers", Integer.toString(workers));
        s.put("spark.qsync.batchSize", Integer.toString(batch));
        s.put("spark.qsync.epochs", Integer.toString(epochs));
        s.put("spark.qsync.shuffle", "false");
        s.put("spark.qsync.checksumEvery", Integer.toString(checksumEvery));
        s.put("spark.qsync.comm.connectTimeout", "20s");
        s.put("spark.qsync.comm.ioTimeout", "20s");
        // overlap on: 16 KiB buckets give every network here several all-reduces during its backward pass
        s.put("spark.qsync.comm.bucketBytes", "16384");
        return TrainSettings.from(s);
    }

    private static Dataset<Row> frameOf(List<LabeledImages> partitions) {
        Dataset<Row> df = null;
        for (LabeledImages p : partitions) {
            Dataset<Row> part = ImageFrames.toFrame(spark, p, 1);
            df = df == null ? part : df.union(part);
        }
        return df;
    }

    private static void assertMatchesSingleProcess(ModelSpec spec, List<LabeledImages> parts, int batch) {
        TrainJob.Result r =
                TrainJob.train(spark, frameOf(parts), spec, settings(parts.size(), batch, 1, 5), null, null, null);
        assertEquals(parts.size(), r.replicaChecksums().length);
        for (long c : r.replicaChecksums()) {
            assertEquals(r.replicaChecksums()[0], c, "replicas must hold bitwise-identical parameters");
        }
        Model reference = ReferenceTraining.train(spec, parts, batch, 1);
        double rel = ReferenceTraining.relativeDifference(r.model().params(), reference.params());
        System.out.printf(
                "%s: %d steps, max relative parameter difference vs single process = %.3e%n",
                spec.graph() ? "ComputationGraph" : "MultiLayerNetwork",
                r.history().stepLosses().length,
                rel);
        assertTrue(rel <= 1e-5, "distributed vs single-process relative difference " + rel);
        double moved = ReferenceTraining.relativeDifference(
                r.model().params(), spec.restore().params());
        assertTrue(moved > 1e-3, "training must change the parameters (moved " + moved + ")");
        float[] losses = r.history().stepLosses();
        assertTrue(
                losses[losses.length - 1] < losses[0], "loss falls: " + losses[0] + " -> " + losses[losses.length - 1]);
    }

    @Test
    void mlpOnTwoWorkersEqualsSingleProcessTraining() {
        ModelSpec spec = ModelSpec.fromJson(DemoModels.mlp(1, 64, 1e-3).toJson());
        // 20 steps of global batch 64: two partitions of 640 rows, 32 rows per worker per step
        assertMatchesSingleProcess(spec, List.of(images.slice(0, 640), images.slice(640, 1280)), 64);
    }

    @Test
    void demoCnnOnTwoWorkersEqualsSingleProcessTraining() {
        ModelSpec spec = ModelSpec.fromJson(DemoModels.fashionCnn(6, 1e-3).toJson());
        // 10 steps of global batch 64
        assertMatchesSingleProcess(spec, List.of(images.slice(0, 320), images.slice(320, 640)), 64);
    }

    @Test
    void residualGraphOnTwoWorkersEqualsSingleProcessTraining() {
        ModelSpec spec = ModelSpec.fromJson(DemoModels.residualMlp(2, 64, 1e-3).toJson());
        assertMatchesSingleProcess(spec, List.of(images.slice(0, 640), images.slice(640, 1280)), 64);
    }

    @Test
    void unevenPartitionsEqualSingleProcessTraining() {
        ModelSpec spec = ModelSpec.fromJson(DemoModels.mlp(3, 32, 1e-3).toJson());
        // 900 + 380 rows, global batch 64 -> 20 steps with shards of 45 and 19 rows
        assertMatchesSingleProcess(spec, List.of(images.slice(0, 900), images.slice(900, 1280)), 64);
    }

    @Test
    void singleWorkerEqualsSingleProcessTraining() {
        ModelSpec spec = ModelSpec.fromJson(DemoModels.mlp(4, 32, 1e-3).toJson());
        assertMatchesSingleProcess(spec, List.of(images.slice(0, 640)), 32);
    }

    @Test
    void aWorkerThatThrowsFailsTheJobPromptlyWithItsMessage() {
        ModelSpec spec = ModelSpec.fromJson(DemoModels.mlp(5, 32, 1e-3).toJson());
        StepListener failAtStep5 = (rank, epoch, step, global, loss) -> {
            if (rank == 1 && global == 5) {
                throw new IllegalStateException("injected failure on rank 1 at step 5");
            }
        };
        long t0 = System.nanoTime();
        BarrierStageAttempts attempts = BarrierStageAttempts.on(spark.sparkContext());
        Exception e = jobFails(
                Exception.class,
                60,
                List.of(images.slice(0, 640), images.slice(640, 1280)),
                spec,
                settings(2, 64, 1, 0),
                failAtStep5);
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("failing worker: job failed after %.1f s: %s%n", secs, firstLine(e.getMessage()));
        assertTrue(e.getMessage().contains("injected failure on rank 1 at step 5"), e.getMessage());
        // a deterministic failure (IllegalStateException) is not retried: one attempt of the barrier stage
        assertEquals(1, attempts.count(), "barrier stage attempts");
        attempts.close();
        assertEquals(0, TrainJob.liveInputBroadcasts(), "a failed job destroys the broadcast of its inputs");
    }

    @Test
    void aJobThatSparkGivesUpOnDestroysTheBroadcastOfItsInputs() {
        ModelSpec spec = ModelSpec.fromJson(DemoModels.mlp(15, 16, 1e-3).toJson());
        // a transient (retried) failure on every attempt: Spark retries the barrier stage, then the job fails
        StepListener transientFailure = (rank, epoch, step, global, loss) -> {
            if (rank == 1 && global == 2) {
                throw new java.io.UncheckedIOException(new java.io.IOException("injected transient failure"));
            }
        };
        Exception e = jobFails(
                Exception.class,
                180,
                List.of(images.slice(0, 320), images.slice(320, 640)),
                spec,
                settings(2, 64, 1, 0),
                transientFailure);
        assertTrue(e.getMessage().contains("injected transient failure"), e.getMessage());
        assertEquals(0, TrainJob.liveInputBroadcasts(), "a failed job destroys the broadcast of its inputs");
    }

    @Test
    void moreWorkersThanSlotsIsAClearErrorBeforeLaunching() {
        ModelSpec spec = ModelSpec.fromJson(DemoModels.mlp(6, 16, 1e-3).toJson());
        var e = jobFails(
                IllegalArgumentException.class, 20, List.of(images.slice(0, 300)), spec, settings(3, 32, 1, 0), null);
        assertTrue(e.getMessage().contains("spark.qsync.numWorkers=3 exceeds the 2 task slots"), e.getMessage());
    }

    @Test
    void anEmptyPartitionIsAClearError() {
        ModelSpec spec = ModelSpec.fromJson(DemoModels.mlp(7, 16, 1e-3).toJson());
        Exception e = jobFails(
                Exception.class,
                60,
                List.of(images.slice(0, 300), images.slice(300, 300)),
                spec,
                settings(2, 32, 1, 0),
                null);
        assertTrue(e.getMessage().contains("partition 1 of the training data is empty"), e.getMessage());
    }

    @Test
    void missingColumnIsAClearError() {
        ModelSpec spec = ModelSpec.fromJson(DemoModels.mlp(8, 16, 1e-3).toJson());
        Dataset<Row> df = frameOf(List.of(images.slice(0, 100))).withColumnRenamed("label", "y");
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> TrainJob.train(spark, df, spec, settings(1, 32, 1, 0), null, null, null));
        assertTrue(
                e.getMessage().contains("no column 'label'") && e.getMessage().contains("spark.qsync.labelCol"));
    }

    @Test
    void workersTrainWithTheirOwnPrecisionPlansAndStayIdentical() {
        ModelSpec spec = ModelSpec.fromJson(DemoModels.mlp(9, 64, 1e-3).toJson());
        PrecisionPlan fp32 = PrecisionPlan.empty();
        PrecisionPlan int8 =
                PrecisionPlan.empty().with("dense_0", Precision.INT8).with("dense_1", Precision.FP16);
        TrainJob.Result r = TrainJob.train(
                spark,
                frameOf(List.of(images.slice(0, 640), images.slice(640, 1280))),
                spec,
                settings(2, 64, 1, 5),
                TrainOptions.none().withPlans(List.of(fp32, int8)));
        assertEquals(r.replicaChecksums()[0], r.replicaChecksums()[1], "replicas identical under different plans");
        float[] losses = r.history().stepLosses();
        assertTrue(losses[19] < losses[0], "loss falls under mixed plans");
        Model reference = ReferenceTraining.train(spec, List.of(images.slice(0, 640), images.slice(640, 1280)), 64, 1);
        double rel = ReferenceTraining.relativeDifference(r.model().params(), reference.params());
        System.out.printf("plans FP32 | INT8+FP16: relative difference to all-FP32 training %.3e%n", rel);
        assertTrue(rel > 1e-6, "a quantized worker must change the result (difference " + rel + ")");
    }

    @Test
    void aPlanNamingAnUnknownLayerFailsBeforeLaunching() {
        ModelSpec spec = ModelSpec.fromJson(DemoModels.mlp(10, 16, 1e-3).toJson());
        PrecisionPlan bad = PrecisionPlan.empty().with("conv_7", Precision.INT8);
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> TrainJob.train(
                        spark,
                        frameOf(List.of(images.slice(0, 100))),
                        spec,
                        settings(1, 32, 1, 0),
                        TrainOptions.none().withPlans(List.of(bad))));
        assertTrue(e.getMessage().contains("conv_7"), e.getMessage());
    }

    /** Runs a job that must fail within {@code seconds}; returns its exception. */
    private static <T extends Throwable> T jobFails(
            Class<T> type,
            int seconds,
            List<LabeledImages> parts,
            ModelSpec spec,
            TrainSettings settings,
            StepListener listener) {
        return assertTimeoutPreemptively(
                Duration.ofSeconds(seconds),
                () -> assertThrows(
                        type, () -> TrainJob.train(spark, frameOf(parts), spec, settings, null, listener, null)));
    }

    private static String firstLine(String s) {
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }
}
