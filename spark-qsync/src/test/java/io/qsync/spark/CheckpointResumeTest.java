package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.models.DemoModels;
import io.qsync.runtime.EpochStats;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.ProgressSink;
import io.qsync.runtime.StepListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A stopped job continues from its newest checkpoint ({@code spark.qsync.checkpoint.resume}) and ends bitwise alike. */
class CheckpointResumeTest {
    private static SparkSession spark;
    private static Dataset<Row> frame;
    private static ModelSpec spec;

    @BeforeAll
    static void start() {
        spark = SparkTestSession.start("checkpoint-resume-test");
        frame = ImageFrames.toFrame(
                        spark, FashionMnist.load(FashionMnist.Split.TRAIN).head(1280), 2)
                .cache();
        spec = ModelSpec.fromJson(DemoModels.mlp(33, 32, 1e-3).toJson()); // Adam: state + iteration count matter
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Global steps rank 0 reported, in order. */
    private static final class Steps implements ProgressSink {
        final List<Integer> seen = new CopyOnWriteArrayList<>();

        @Override
        public void step(int epoch, int step, int stepsPerEpoch, double loss, double samplesPerSecond) {
            seen.add(epoch * stepsPerEpoch + step);
        }

        @Override
        public void epoch(EpochStats stats) {}

        @Override
        public void close() {}
    }

    private static TrainJob.Result train(Map<String, String> extra, StepListener listener, ProgressSink progress) {
        Map<String, String> s = new HashMap<>(extra);
        s.put("spark.qsync.numWorkers", "2");
        s.put("spark.qsync.batchSize", "64"); // 20 steps per epoch
        s.put("spark.qsync.epochs", "2");
        s.put("spark.qsync.comm.ioTimeout", "30s");
        return TrainJob.train(spark, frame, spec, TrainSettings.from(s), null, listener, progress);
    }

    @Test
    void aStoppedJobResumesFromItsNewestCheckpointAndEndsBitwiseEqual(@TempDir Path dir) {
        assertTimeoutPreemptively(Duration.ofSeconds(180), () -> {
            TrainJob.Result uninterrupted = train(Map.of(), null, null);
            Map<String, String> ckpt =
                    Map.of("spark.qsync.checkpoint.dir", dir.toString(), "spark.qsync.checkpoint.everySteps", "15");
            StepListener stopAt25 = (rank, epoch, step, global, loss) -> {
                if (global == 25) {
                    throw new IllegalStateException("stopped at step 25");
                }
            };
            Exception stopped = assertThrows(Exception.class, () -> train(ckpt, stopAt25, null));
            assertTrue(stopped.getMessage().contains("stopped at step 25"), stopped.getMessage());
            try (var files = Files.list(dir)) {
                assertTrue(
                        files.anyMatch(f -> f.getFileName().toString().equals("step-000000000015.qsync")),
                        "checkpoint after step 15 written");
            }
            var refused = assertThrows(IllegalArgumentException.class, () -> train(ckpt, null, null));
            assertTrue(refused.getMessage().contains("spark.qsync.checkpoint.resume"), refused.getMessage());
            Map<String, String> resume = new HashMap<>(ckpt);
            resume.put("spark.qsync.checkpoint.resume", "true");
            Steps steps = new Steps();
            TrainJob.Result resumed = train(resume, null, steps);
            System.out.println("resumed job: first step reported " + steps.seen.get(0) + " (checkpoint after step 15)");
            assertEquals(15, steps.seen.get(0), "the resumed job starts at the checkpoint's step");
            assertEquals(
                    uninterrupted.replicaChecksums()[0],
                    resumed.replicaChecksums()[0],
                    "resumed = uninterrupted, bitwise");
            assertEquals(40, resumed.history().stepLosses().length);
            assertEquals(
                    uninterrupted.history().stepLosses()[10],
                    resumed.history().stepLosses()[10],
                    "history before the checkpoint comes from it");
        });
    }

    @Test
    void theEstimatorPassesCheckpointDirAndResume(@TempDir Path dir) {
        io.qsync.spark.ml.QSyncClassifier clf = new io.qsync.spark.ml.QSyncClassifier()
                .setModelJson(DemoModels.mlp(33, 32, 1e-3).toJson())
                .setNumWorkers(2)
                .setBatchSize(64)
                .setCheckpointDir(dir.toString())
                .setResume(true);
        var e = assertThrows(IllegalArgumentException.class, () -> clf.fit(frame));
        assertTrue(e.getMessage().contains("spark.qsync.checkpoint.resume is set but " + dir), e.getMessage());
    }
}
