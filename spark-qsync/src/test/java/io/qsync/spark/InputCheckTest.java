package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.models.DemoModels;
import io.qsync.runtime.ModelSpec;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of bad input is found once, on the driver, before the barrier stage starts (no attempt of it is made),
 * with a message naming the column, the row in the order of the whole data set and the fix.
 */
class InputCheckTest {
    private static final int ROWS = 60;
    private static final int FEATURES = 784;
    private static SparkSession spark;
    private static ModelSpec spec;

    @BeforeAll
    static void start() {
        spark = SparkTestSession.start("input-check-test");
        spec = ModelSpec.fromJson(DemoModels.mlp(3, 8, 1e-3).toJson());
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static StructType schema(DataType label) {
        return new StructType()
                .add("features", DataTypes.createArrayType(DataTypes.FloatType), true)
                .add("label", label, true);
    }

    /** 60 good rows in 2 partitions (rows 0-29, 30-59), with row {@code bad} replaced. */
    private static Dataset<Row> frame(DataType labelType, int bad, Row replacement) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            Float[] f = new Float[FEATURES];
            for (int k = 0; k < FEATURES; k++) {
                f[k] = (i * 31 + k) % 17 / 17f;
            }
            Object label = labelType.equals(DataTypes.DoubleType) ? (Object) (double) (i % 10) : (Object) (i % 10);
            rows.add(i == bad ? replacement : RowFactory.create(f, label));
        }
        return spark.createDataFrame(
                new JavaSparkContext(spark.sparkContext()).parallelize(rows, 2), schema(labelType));
    }

    private static Float[] features(int n, UnaryOperator<Float[]> edit) {
        Float[] f = new Float[n];
        java.util.Arrays.fill(f, 0.5f);
        return edit.apply(f);
    }

    private static TrainSettings settings(int workers, int batch) {
        Map<String, String> s = new HashMap<>();
        s.put("spark.qsync.numWorkers", Integer.toString(workers));
        s.put("spark.qsync.batchSize", Integer.toString(batch));
        s.put("spark.qsync.progress", "false");
        return TrainSettings.from(s);
    }

    /** Trains on {@code df}; returns the error's message after checking that no barrier stage was attempted. */
    private static String failureOf(Dataset<Row> df, TrainSettings s) {
        BarrierStageAttempts attempts = BarrierStageAttempts.on(spark.sparkContext());
        try {
            IllegalArgumentException e = assertTimeoutPreemptively(
                    Duration.ofSeconds(60),
                    () -> assertThrows(
                            IllegalArgumentException.class,
                            () -> TrainJob.train(spark, df, spec, s, null, null, null)));
            assertEquals(0, attempts.count(), "the barrier stage must not start on bad input");
            System.out.println("bad input: " + e.getMessage());
            return e.getMessage();
        } finally {
            attempts.close();
        }
    }

    private static void assertNames(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "'" + p + "' missing in: " + message);
        }
    }

    @Test
    void nullFeaturesNameColumnAndGlobalRow() {
        String m = failureOf(frame(DataTypes.IntegerType, 41, RowFactory.create(null, 1)), settings(2, 10));
        assertNames(m, "column 'features'", "row 41 ", "is null", "na.drop");
    }

    @Test
    void nanAndInfiniteFeaturesAreNamedNotBlamedOnTheLearningRate() {
        String nan = failureOf(
                frame(
                        DataTypes.IntegerType,
                        37,
                        RowFactory.create(
                                features(FEATURES, f -> {
                                    f[5] = Float.NaN;
                                    return f;
                                }),
                                3)),
                settings(2, 10));
        assertNames(nan, "column 'features'", "row 37 ", "NaN at element 5", "non-finite");
        String inf = failureOf(
                frame(
                        DataTypes.IntegerType,
                        2,
                        RowFactory.create(
                                features(FEATURES, f -> {
                                    f[700] = Float.NEGATIVE_INFINITY;
                                    return f;
                                }),
                                3)),
                settings(2, 10));
        assertNames(inf, "column 'features'", "row 2 ", "-Infinity at element 700");
    }

    @Test
    void aNullElementInsideTheFeaturesIsNamed() {
        String m = failureOf(
                frame(
                        DataTypes.IntegerType,
                        59,
                        RowFactory.create(
                                features(FEATURES, f -> {
                                    f[9] = null;
                                    return f;
                                }),
                                3)),
                settings(2, 10));
        assertNames(m, "column 'features'", "row 59 ", "null at element 9");
    }

    @Test
    void aShortFeatureRowIsNamedInEitherPartition() {
        String inSecond = failureOf(
                frame(DataTypes.IntegerType, 45, RowFactory.create(features(700, f -> f), 1)), settings(2, 10));
        assertNames(inSecond, "column 'features'", "row 45 ", "700 features", "784");
        // the odd row opens the second partition: its length is compared across partitions
        String first = failureOf(
                frame(DataTypes.IntegerType, 30, RowFactory.create(features(700, f -> f), 1)), settings(2, 10));
        assertNames(first, "column 'features'", "row 30 ", "700 features", "first row with features has 784");
    }

    @Test
    void labelsOutOfRangeNullOrFractionalAreNamed() {
        String range = failureOf(
                frame(DataTypes.IntegerType, 33, RowFactory.create(features(FEATURES, f -> f), 10)), settings(2, 10));
        assertNames(range, "column 'label'", "row 33 ", "label 10 outside [0, 10)", "spark.qsync.numClasses");
        String negative = failureOf(
                frame(DataTypes.IntegerType, 3, RowFactory.create(features(FEATURES, f -> f), -1)), settings(2, 10));
        assertNames(negative, "column 'label'", "row 3 ", "label -1");
        String missing = failureOf(
                frame(DataTypes.IntegerType, 58, RowFactory.create(features(FEATURES, f -> f), null)), settings(2, 10));
        assertNames(missing, "column 'label'", "row 58 ", "null label");
        String fraction = failureOf(
                frame(DataTypes.DoubleType, 50, RowFactory.create(features(FEATURES, f -> f), 2.5)), settings(2, 10));
        assertNames(fraction, "column 'label'", "row 50 ", "2.5", "not a class index");
    }

    @Test
    void wrongColumnTypesNameTheColumnAndTheFix() {
        Dataset<Row> good = frame(DataTypes.IntegerType, -1, null);
        String label = failureOf(good.withColumn("label", good.col("label").cast("string")), settings(2, 10));
        assertNames(label, "column 'label'", "string", "StringIndexer");
        String feats = failureOf(good.withColumn("features", good.col("label")), settings(2, 10));
        assertNames(feats, "column 'features'", "array<float>");
    }

    @Test
    void tooFewRowsPerWorkerIsFoundBeforeLaunching() {
        // 60 rows in 2 partitions of 30 at batch size 1: 60 steps per epoch would need 60 rows on each worker
        String m = failureOf(frame(DataTypes.IntegerType, -1, null), settings(2, 1));
        assertNames(m, "partition 0 has 30 rows", "60 steps", "spark.qsync.batchSize");
    }

    @Test
    void aDamagedParquetFileNeverTrains(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("train.parquet");
        frame(DataTypes.IntegerType, -1, null).coalesce(1).write().parquet(out.toString());
        Path file;
        try (var files = Files.list(out)) {
            file = files.filter(p -> p.getFileName().toString().endsWith(".parquet"))
                    .findFirst()
                    .orElseThrow();
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(raf.length() / 2); // truncated: footer gone
        }
        Files.deleteIfExists(file.resolveSibling("." + file.getFileName() + ".crc"));
        String m =
                failureOf(spark.read().schema(schema(DataTypes.IntegerType)).parquet(out.toString()), settings(2, 10));
        assertNames(m, "cannot read the training data", "nothing was trained");
    }
}
