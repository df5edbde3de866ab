package io.qsync.cli;

import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.data.LabeledImages;
import io.qsync.runtime.EpochStats;
import io.qsync.runtime.ModelSpec;
import io.qsync.spark.ConfEntry;
import io.qsync.spark.ConsoleProgress;
import io.qsync.spark.QSyncConf;
import io.qsync.spark.QSyncKryoRegistrator;
import io.qsync.spark.SparkVersionCheck;
import io.qsync.spark.TrainJob;
import io.qsync.spark.TrainSettings;
import io.qsync.spark.devices.SmSlicing;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.util.ModelSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code qsync train}: trains the demo CNN on Fashion-MNIST with synchronous data-parallel workers in a Spark barrier
 * stage, printing a progress line, per-epoch loss, test accuracy and samples/s, and saves the model.
 */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description = "Train the demo CNN on Fashion-MNIST with synchronous data-parallel Spark workers.")
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--master", description = "Spark master; default: spark-submit's, else local[2].")
    String master;

    @Option(
            names = "--workers",
            description = "Synchronous workers (barrier tasks); spark.qsync.numWorkers. " + "Default: 2.")
    Integer workers;

    @Option(names = "--epochs", description = "Epochs; spark.qsync.epochs. Default: 1.")
    Integer epochs;

    @Option(names = "--batch-size", description = "Global batch size; spark.qsync.batchSize. Default: 64.")
    Integer batchSize;

    @Option(names = "--lr", description = "Adam learning rate. Default: ${DEFAULT-VALUE}.")
    double learningRate = 2e-3;

    @Option(names = "--seed", description = "Seed of initialization and shuffles; spark.qsync.seed. Default: 42.")
    Long seed;

    @Option(
            names = "--limit",
            description = "Use only the first N training images (0 = all). Default: ${DEFAULT-VALUE}.")
    int limit = 0;

    @Option(
            names = "--data-dir",
            description =
                    "Fashion-MNIST directory; spark.qsync.data.dir. Default: " + "/usr/share/datasets/fashion-mnist.")
    Path dataDir;

    @Option(names = "--model", description = "Network to train: " + CliModels.NAMES + ". Default: ${DEFAULT-VALUE}.")
    String model = "fashion-cnn";

    @Option(names = "--output", description = "Where to save the trained model. Default: qsync-out/<model>.zip.")
    File output;

    /** {@code --output}, or {@code qsync-out/<model>.zip}. */
    File output() {
        return output != null ? output : new File("qsync-out/" + CliModels.canonical(model) + ".zip");
    }

    @Option(
            names = "--backend",
            description = "What each worker trains on: cpu, cuda or auto "
                    + "(spark.qsync.backend). Default: the setting's, cpu.")
    String backend;

    @Option(
            names = "--plan",
            description = "auto: probe the workers' devices, profile the types without a measured profile "
                    + "(spark.qsync.plan.profilesDir), plan precisions and batch shares, save plan.json and the report "
                    + "next to the model (<output>-plan/) and train with the plan (spark.qsync.plan). Default: off.")
    String plan;

    @Option(
            names = "--checkpoint-dir",
            description = "Checkpoint directory (spark.qsync.checkpoint.dir, any Hadoop "
                    + "file system); a retried stage resumes from its newest checkpoint.")
    String checkpointDir;

    @Option(names = "--resume", description = "Continue the stopped job whose checkpoints are in --checkpoint-dir.")
    boolean resume;

    @Option(
            names = "--conf",
            description = "A spark.qsync.* setting, key=value (repeatable); the same keys given to "
                    + "spark-submit --conf apply too. Flags above win over both.")
    Map<String, String> conf = new HashMap<>();

    /** The CLI's default global batch, used only when no flag or setting names one. */
    static final int DEFAULT_BATCH = 64;

    /**
     * The job's settings, lowest precedence first: the CLI's default batch, {@code submitted} (the {@code spark.qsync.*}
     * entries of the SparkConf: spark-submit {@code --conf}), this command's {@code --conf}, then the explicit flags.
     * (No Spark type in any signature here: picocli reflects on this class, and {@code qsync plan} runs without Spark.)
     */
    Map<String, String> settings(Map<String, String> submitted) {
        Map<String, String> s = new HashMap<>();
        s.put(QSyncConf.BATCH_SIZE.key(), Integer.toString(DEFAULT_BATCH));
        s.putAll(submitted);
        s.putAll(conf);
        putIfGiven(s, QSyncConf.NUM_WORKERS, workers);
        putIfGiven(s, QSyncConf.EPOCHS, epochs);
        putIfGiven(s, QSyncConf.BATCH_SIZE, batchSize);
        putIfGiven(s, QSyncConf.SEED, seed);
        putIfGiven(s, QSyncConf.DATA_DIR, dataDir);
        putIfGiven(s, QSyncConf.BACKEND, backend);
        putIfGiven(s, QSyncConf.CHECKPOINT_DIR, checkpointDir);
        putIfGiven(s, QSyncConf.PLAN, plan);
        if (QSyncConf.PLAN.read(s).equals("auto") && !s.containsKey(QSyncConf.PLAN_OUT_DIR.key())) {
            s.put(QSyncConf.PLAN_OUT_DIR.key(), planDirNextTo(output()).toString());
        }
        if (resume) {
            s.put(QSyncConf.CHECKPOINT_RESUME.key(), "true");
        }
        return s;
    }

    /** @return where plan=auto writes for a model saved to {@code model}: {@code <model without .zip>-plan} */
    static Path planDirNextTo(File model) {
        File m = model.getAbsoluteFile();
        return m.toPath().resolveSibling(m.getName().replaceFirst("\\.zip$", "") + "-plan");
    }

    private static void putIfGiven(Map<String, String> s, ConfEntry<?> entry, Object flag) {
        if (flag != null) {
            s.put(entry.key(), flag.toString());
        }
    }

    @Override
    public Integer call() throws Exception {
        CliModels.configJson(model, 1, 1e-3); // an unknown --model fails here, before Spark starts
        SparkVersionCheck.require();
        SparkConf sc = new SparkConf()
                .setAppName("qsync-train")
                .setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .setIfMissing("spark.kryo.registrator", QSyncKryoRegistrator.class.getName())
                .setIfMissing("spark.ui.enabled", "false")
                // NCCL among a host's GPU workers runs with NVLink multicast off, in executors started from here too
                .setIfMissing("spark.executorEnv.NCCL_NVLS_ENABLE", "0");
        Map<String, String> settings = settings(QSyncConf.from(sc));
        TrainSettings ts = TrainSettings.from(settings);
        if (ts.devices().smFraction() > 0) { // two slices in one executor: more hardware queues (SmSlicing)
            sc.setIfMissing("spark.executorEnv." + SmSlicing.QUEUES_ENV, Integer.toString(SmSlicing.QUEUES));
        }
        Path dir = Path.of(QSyncConf.DATA_DIR.read(settings));
        long initSeed = QSyncConf.SEED.read(settings);
        int epochCount = ts.runtime().epochs();
        LabeledImages train = FashionMnist.load(dir, FashionMnist.Split.TRAIN);
        LabeledImages test = FashionMnist.load(dir, FashionMnist.Split.TEST);
        if (limit > 0) {
            train = train.head(limit);
        }
        if (master != null) {
            sc.setMaster(master);
        } else if (!sc.contains("spark.master")) {
            sc.setMaster("local[2]");
        }
        try (SparkSession spark = SparkSession.builder().config(sc).getOrCreate()) {
            System.out.printf(
                    "qsync train: %d images, %d workers on %s, global batch %d, %d epoch(s)%n",
                    train.count(),
                    ts.numWorkers(),
                    spark.sparkContext().master(),
                    ts.runtime().globalBatchSize(),
                    epochCount);
            if (!ts.planFile().isEmpty()) {
                System.out.println(
                        "cluster plan " + ts.planFile() + ", worker device types by rank " + ts.planDevices());
            }
            Dataset<Row> frame = ImageFrames.toFrame(spark, train, ts.numWorkers())
                    .withColumnRenamed(ImageFrames.FEATURES, ts.featuresCol())
                    .withColumnRenamed(ImageFrames.LABEL, ts.labelCol());
            ModelSpec spec = ModelSpec.fromJson(CliModels.configJson(model, initSeed, learningRate));
            long t0 = System.nanoTime();
            TrainJob.Result r = TrainJob.train(
                    spark, frame, spec, ts, test.toShard(), null, new ConsoleProgress(System.out, epochCount));
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.println();
            if (!ts.progress()) {
                for (EpochStats e : r.history().epochs()) {
                    System.out.println(e.describe());
                }
            }
            EpochStats last = r.history().last();
            System.out.printf(
                    "final test accuracy: %.2f%% (%d test images); wall time %.1f s%n",
                    100 * last.testAccuracy(), test.count(), secs);
            File output = output();
            if (output.getParentFile() != null) {
                Files.createDirectories(output.getParentFile().toPath());
            }
            ModelSerializer.writeModel(r.model(), output, true);
            System.out.println("model saved to " + output.getAbsolutePath());
            if (r.verdict() != null) {
                System.out.println(r.verdict());
                if (r.planCheck() != null) {
                    System.out.println(r.planCheck() + r.planCheck().describeRanks());
                }
                System.out.println("plan and report: " + r.planDir());
            }
        }
        return 0;
    }
}
