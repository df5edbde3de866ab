package io.qsync.spark.ml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.data.LabeledImages;
import io.qsync.models.DemoModels;
import io.qsync.spark.QSyncKryoRegistrator;
import java.nio.file.Path;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Spark ML API on local[2]: fit, transform, Pipeline, persistence of estimator and model. */
class QSyncClassifierTest {
    private static SparkSession spark;
    private static Dataset<Row> train;
    private static Dataset<Row> test;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder()
                .master("local[2]")
                .appName("qsync-ml-test")
                .config("spark.ui.enabled", "false")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", QSyncKryoRegistrator.class.getName())
                .getOrCreate();
        LabeledImages all = FashionMnist.load(FashionMnist.Split.TRAIN);
        train = ImageFrames.toFrame(spark, all.head(3000), 2);
        test = ImageFrames.toFrame(
                spark, FashionMnist.load(FashionMnist.Split.TEST).head(1000), 2);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** The id Spark gives the next broadcast (BroadcastManager's counter): unchanged while nothing is broadcast. */
    private static long nextBroadcastId() {
        Object manager = spark.sparkContext().env().broadcastManager();
        for (java.lang.reflect.Field f : manager.getClass().getDeclaredFields()) {
            if (f.getName().endsWith("nextBroadcastId")) {
                try {
                    f.setAccessible(true);
                    return ((java.util.concurrent.atomic.AtomicLong) f.get(manager)).get();
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        throw new IllegalStateException("no nextBroadcastId field in " + manager.getClass());
    }

    private static double accuracy(Dataset<Row> predictions) {
        long n = predictions.count();
        long ok = predictions.filter("cast(label as double) = prediction").count();
        return (double) ok / n;
    }

    @Test
    void fitsWithAClusterPlanFromQsyncPlan(@TempDir Path dir) throws java.io.IOException {
        // the notebook's planning cells: qsync plan for a V100 + T4 cluster, then the Estimator trains with that plan
        int rc = new picocli.CommandLine(new io.qsync.cli.QSyncCli())
                .execute(
                        "plan",
                        "--model",
                        "fashion-cnn",
                        "--devices",
                        "V100:1,T4:1",
                        "--batch",
                        "64",
                        "--out",
                        dir.toString());
        assertEquals(0, rc);
        io.qsync.planner.report.ClusterPlan plan =
                io.qsync.planner.report.ClusterPlan.fromJson(java.nio.file.Files.readString(dir.resolve("plan.json")));
        int global = plan.devices().values().stream()
                .mapToInt(d -> d.workers() * d.batchPerWorker())
                .sum();
        assertTrue(
                plan.devices().get("T4").layers().containsValue(io.qsync.lowprec.Precision.FP16)
                        && plan.devices().get("T4").layers().containsValue(io.qsync.lowprec.Precision.FP32),
                "a mixed plan: " + plan);
        QSyncClassifier clf = new QSyncClassifier()
                .setModelJson(DemoModels.fashionCnn(5, 2e-3).toJson())
                .setNumWorkers(2)
                .setEpochs(1)
                .setBatchSize(global)
                .setPlanFile(dir.resolve("plan.json").toString())
                .setPlanDevices("V100,T4");
        QSyncClassificationModel model = clf.fit(train);
        double acc = accuracy(model.transform(test));
        System.out.printf(
                "QSyncClassifier with plan %s: test accuracy %.3f%n",
                plan.devices().keySet(), acc);
        assertTrue(acc > 0.5, "accuracy " + acc);
        var bad = assertThrows(IllegalArgumentException.class, () -> clf.copy(new org.apache.spark.ml.param.ParamMap())
                .setPlanDevices("V100,V100")
                .fit(train));
        assertTrue(bad.getMessage().contains("spark.qsync.plan.devices"), bad.getMessage());
    }

    @Test
    void fitsTransformsAndRoundTripsThroughSaveAndLoad(@TempDir Path dir) throws java.io.IOException {
        QSyncClassifier clf = new QSyncClassifier()
                .setModelJson(DemoModels.mlp(3, 128, 2e-3).toJson())
                .setNumWorkers(2)
                .setEpochs(2)
                .setBatchSize(64);
        PipelineModel pm = new Pipeline().setStages(new PipelineStage[] {clf}).fit(train);
        QSyncClassificationModel model = (QSyncClassificationModel) pm.stages()[0];
        assertEquals(2, model.history().epochs().size());
        long broadcasts = nextBroadcastId();
        Dataset<Row> pred = model.transform(test);
        assertEquals(
                broadcasts, nextBroadcastId(), "transform makes no broadcast of its own (it would never be destroyed)");
        assertEquals(test.count(), pred.count());
        double acc = accuracy(pred);
        System.out.printf("QSyncClassifier: test accuracy %.3f after 2 epochs on 3000 images%n", acc);
        assertTrue(acc > 0.65, "accuracy " + acc);

        String mp = dir.resolve("model").toString();
        model.write().save(mp);
        QSyncClassificationModel loaded = QSyncClassificationModel.load(mp);
        assertEquals(model.uid(), loaded.uid());
        java.util.List<Row> before =
                pred.select("rawPrediction", "probability", "prediction").collectAsList();
        java.util.List<Row> after = loaded.transform(test)
                .select("rawPrediction", "probability", "prediction")
                .collectAsList();
        assertEquals(before.size(), after.size());
        for (int i = 0; i < before.size(); i++) {
            assertEquals(before.get(i), after.get(i), "row " + i + " differs after save/load");
        }

        String ep = dir.resolve("estimator").toString();
        clf.write().save(ep);
        QSyncClassifier again = QSyncClassifier.load(ep);
        assertEquals(2, (Integer) again.getOrDefault(again.epochs()));
        assertEquals(clf.getOrDefault(clf.modelJson()), again.getOrDefault(again.modelJson()));
    }

    @Test
    void sessionConfSettingsApplyUnlessAParamIsSet() {
        QSyncClassifier clf = new QSyncClassifier()
                .setModelJson(DemoModels.mlp(3, 32, 2e-3).toJson())
                .setNumWorkers(2)
                .setBatchSize(128)
                .setChecksumEvery(5);
        try {
            spark.conf().set("spark.qsync.epochs", "2");
            assertEquals(2, clf.fit(train).history().epochs().size(), "spark.qsync.epochs=2 from the session");
            assertEquals(
                    "1",
                    clf.copy(new org.apache.spark.ml.param.ParamMap())
                            .setEpochs(1)
                            .settings(java.util.Map.of("spark.qsync.epochs", "2"))
                            .get("spark.qsync.epochs"),
                    "a set param wins");
            assertEquals(
                    "5",
                    clf.settings(java.util.Map.of("spark.qsync.checksumEvery", "9"))
                            .get("spark.qsync.checksumEvery"));
            spark.conf().set("spark.qsync.comm.ioTimeout", "banana");
            var e = assertThrows(IllegalArgumentException.class, () -> clf.fit(train));
            assertEquals(
                    "invalid spark.qsync.comm.ioTimeout=banana: must be a positive duration such as 500ms, 30s or 2m",
                    e.getMessage());
            assertEquals(
                    "3s",
                    clf.setIoTimeout("3s")
                            .settings(java.util.Map.of("spark.qsync.comm.ioTimeout", "banana"))
                            .get("spark.qsync.comm.ioTimeout"));
        } finally {
            spark.conf().unset("spark.qsync.epochs");
            spark.conf().unset("spark.qsync.comm.ioTimeout");
        }
    }

    @Test
    void explainParamsIsShortAndGettersReadTheParams() {
        QSyncClassifier clf = new QSyncClassifier()
                .setModelJson(DemoModels.fashionCnn(1, 1e-3).toJson())
                .setEpochs(4)
                .setIoTimeout("30s");
        String text = clf.explainParams();
        assertEquals(clf.params().length, text.lines().count(), text);
        assertTrue(text.lines().allMatch(l -> l.length() < 200), text);
        assertTrue(text.contains("epochs: passes over the data (default: 1, current: 4)"), text);
        assertEquals(4, clf.getEpochs());
        assertEquals("30s", clf.getIoTimeout());
        assertEquals(2, clf.getNumWorkers());
        assertEquals("probability", clf.getProbabilityCol());
    }

    @Test
    void vectorFeaturesThroughAVectorAssemblerPipelineScoreWithSparkMlsEvaluator() {
        Dataset<Row> pixels = train.select(
                org.apache
                        .spark
                        .ml
                        .functions
                        .array_to_vector(train.col("features"))
                        .as("pixels"),
                train.col("label"));
        Dataset<Row> testPixels = test.select(
                org.apache
                        .spark
                        .ml
                        .functions
                        .array_to_vector(test.col("features"))
                        .as("pixels"),
                test.col("label"));
        org.apache.spark.ml.feature.VectorAssembler assembler = new org.apache.spark.ml.feature.VectorAssembler()
                .setInputCols(new String[] {"pixels"})
                .setOutputCol("features");
        QSyncClassifier clf = new QSyncClassifier()
                .setModelJson(DemoModels.mlp(3, 128, 2e-3).toJson())
                .setNumWorkers(2)
                .setEpochs(2)
                .setBatchSize(64);
        PipelineModel pm =
                new Pipeline().setStages(new PipelineStage[] {assembler, clf}).fit(pixels);
        Dataset<Row> scored = pm.transform(testPixels);
        double acc = new org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator()
                .setMetricName("accuracy")
                .evaluate(scored);
        double f1 = new org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator().evaluate(scored);
        System.out.printf(
                "VectorAssembler + QSyncClassifier: accuracy %.3f, f1 %.3f (MulticlassClassificationEvaluator)%n",
                acc, f1);
        assertEquals(accuracy(scored), acc, 1e-12);
        assertTrue(acc > 0.65 && f1 > 0.6, "accuracy " + acc + ", f1 " + f1);
        for (Row r : scored.select("rawPrediction", "probability", "prediction")
                .limit(50)
                .collectAsList()) {
            org.apache.spark.ml.linalg.Vector raw = r.getAs(0);
            org.apache.spark.ml.linalg.Vector p = r.getAs(1);
            assertEquals(1.0, java.util.Arrays.stream(p.toArray()).sum(), 1e-5);
            assertEquals(r.getDouble(2), p.argmax(), 0.0);
            assertEquals(r.getDouble(2), raw.argmax(), 0.0);
        }
    }

    @Test
    void badInputsNameTheParamToSet() {
        QSyncClassifier noModel = new QSyncClassifier();
        var e = assertThrows(IllegalArgumentException.class, () -> noModel.fit(train));
        assertTrue(e.getMessage().contains("modelJson"), e.getMessage());
        QSyncClassifier wrongCol = new QSyncClassifier()
                .setModelJson(DemoModels.mlp(1, 8, 1e-3).toJson())
                .setFeaturesCol("pixels");
        var c = assertThrows(IllegalArgumentException.class, () -> wrongCol.fit(train));
        assertTrue(c.getMessage().contains("'pixels'") && c.getMessage().contains("featuresCol"), c.getMessage());
        var p = assertThrows(IllegalArgumentException.class, () -> new QSyncClassifier().setNumWorkers(0));
        assertTrue(p.getMessage().contains("numWorkers"), p.getMessage());
    }

    @Test
    void thePlanParamsBecomeTheAutoPlanSettings() {
        QSyncClassifier clf = new QSyncClassifier()
                .setModelJson(DemoModels.mlp(4, 16, 1e-3).toJson())
                .setPlan("auto")
                .setPlanProfilesDir("/profiles")
                .setPlanOutDir("/plans");
        io.qsync.spark.TrainSettings s = io.qsync.spark.TrainSettings.from(clf.settings(java.util.Map.of()));
        assertTrue(s.autoPlan().auto());
        assertEquals("/profiles", s.autoPlan().profilesDir());
        assertEquals("/plans", s.autoPlan().outDir());
        var bad = assertThrows(
                IllegalArgumentException.class,
                () -> io.qsync.spark.TrainSettings.from(clf.copy(new org.apache.spark.ml.param.ParamMap())
                        .setPlan("sometimes")
                        .settings(java.util.Map.of())));
        assertTrue(bad.getMessage().contains("spark.qsync.plan=sometimes"), bad.getMessage());
    }

    @Test
    void theBackendParamReachesTheWorkers() {
        QSyncClassifier clf = new QSyncClassifier()
                .setModelJson(DemoModels.mlp(4, 16, 1e-3).toJson())
                .setNumWorkers(2)
                .setBatchSize(128)
                .setBackend("cpu");
        assertEquals("cpu", clf.getBackend());
        assertEquals("cpu", clf.settings(java.util.Map.of()).get("spark.qsync.backend"));
        var unknown =
                assertThrows(IllegalArgumentException.class, () -> clf.copy(new org.apache.spark.ml.param.ParamMap())
                        .setBackend("tpu")
                        .fit(train));
        assertTrue(unknown.getMessage().contains("spark.qsync.backend=tpu"), unknown.getMessage());
        if (io.qsync.runtime.Backends.find("cuda")
                .flatMap(b -> b.unavailableReason())
                .isPresent()) {
            // no GPU here: the executors say so, naming the setting, and the job fails without hanging
            var e = assertTimeoutPreemptively(
                    java.time.Duration.ofSeconds(120),
                    () -> assertThrows(Exception.class, () -> clf.copy(new org.apache.spark.ml.param.ParamMap())
                            .setBackend("cuda")
                            .fit(train)));
            assertTrue(e.getMessage().contains("spark.qsync.backend=cuda cannot run in this process"), e.getMessage());
        }
    }
}
