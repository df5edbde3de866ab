package io.qsync.cli;

import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.data.LabeledImages;
import io.qsync.models.DemoModels;
import io.qsync.runtime.EpochStats;
import io.qsync.runtime.ModelSpec;
import io.qsync.spark.ConsoleProgress;
import io.qsync.spark.QSyncConf;
import io.qsync.spark.QSyncKryoRegistrator;
import io.qsync.spark.TrainJob;
import io.qsync.spark.TrainSettings;
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
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Train the demo CNN on Fashion-MNIST with synchronous data-parallel Spark workers.")
public final class TrainCommand implements Callable<Integer> {

  @Option(names = "--master", description = "Spark master; default: spark-submit's, else local[2].")
  String master;

  @Option(names = "--workers", description = "Synchronous workers (barrier tasks). Default: ${DEFAULT-VALUE}.")
  int workers = 2;

  @Option(names = "--epochs", description = "Epochs. Default: ${DEFAULT-VALUE}.")
  int epochs = 1;

  @Option(names = "--batch-size", description = "Global batch size. Default: ${DEFAULT-VALUE}.")
  int batchSize = 64;

  @Option(names = "--lr", description = "Adam learning rate. Default: ${DEFAULT-VALUE}.")
  double learningRate = 2e-3;

  @Option(names = "--seed", description = "Seed of initialization and shuffles. Default: ${DEFAULT-VALUE}.")
  long seed = 42;

  @Option(names = "--limit", description = "Use only the first N training images (0 = all). Default: ${DEFAULT-VALUE}.")
  int limit = 0;

  @Option(names = "--data-dir", description = "Fashion-MNIST directory. Default: ${DEFAULT-VALUE}.")
  Path dataDir = FashionMnist.DEFAULT_DIR;

  @Option(names = "--output", description = "Where to save the trained model. Default: ${DEFAULT-VALUE}.")
  File output = new File("qsync-out/fashion-cnn.zip");

  @Option(names = "--backend", description = "What each worker trains on: cpu, cuda or auto "
      + "(spark.qsync.backend). Default: the setting's, auto.")
  String backend;

  @Option(names = "--checkpoint-dir", description = "Checkpoint directory (spark.qsync.checkpoint.dir, any Hadoop "
      + "file system); a retried stage resumes from its newest checkpoint.")
  String checkpointDir;

  @Option(names = "--resume", description = "Continue the stopped job whose checkpoints are in --checkpoint-dir.")
  boolean resume;

  @Option(names = "--conf", description = "Extra spark.qsync.* setting, key=value (repeatable).")
  Map<String, String> conf = new HashMap<>();

  @Override
  public Integer call() throws Exception {
    LabeledImages train = FashionMnist.load(dataDir, FashionMnist.Split.TRAIN);
    LabeledImages test = FashionMnist.load(dataDir, FashionMnist.Split.TEST);
    if (limit > 0) {
      train = train.head(limit);
    }
    Map<String, String> settings = new HashMap<>(conf);
    if (checkpointDir != null) {
      settings.put("spark.qsync.checkpoint.dir", checkpointDir);
    }
    if (resume) {
      settings.put("spark.qsync.checkpoint.resume", "true");
    }
    settings.put(QSyncConf.NUM_WORKERS.key(), Integer.toString(workers));
    settings.put(QSyncConf.EPOCHS.key(), Integer.toString(epochs));
    settings.put(QSyncConf.BATCH_SIZE.key(), Integer.toString(batchSize));
    settings.put(QSyncConf.SEED.key(), Long.toString(seed));
    if (backend != null) {
      settings.put(QSyncConf.BACKEND.key(), backend);
    }
    TrainSettings ts = TrainSettings.from(settings);

    SparkConf sc = new SparkConf().setAppName("qsync-train")
        .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .set("spark.kryo.registrator", QSyncKryoRegistrator.class.getName())
        .set("spark.ui.enabled", "false");
    if (master != null) {
      sc.setMaster(master);
    } else if (!sc.contains("spark.master")) {
      sc.setMaster("local[2]");
    }
    try (SparkSession spark = SparkSession.builder().config(sc).getOrCreate()) {
      spark.sparkContext().setLogLevel("WARN");
      System.out.printf("qsync train: %d images, %d workers on %s, global batch %d, %d epoch(s)%n", train.count(),
          workers, spark.sparkContext().master(), batchSize, epochs);
      if (!ts.planFile().isEmpty()) {
        System.out.println("cluster plan " + ts.planFile() + ", worker device types by rank " + ts.planDevices());
      }
      Dataset<Row> frame = ImageFrames.toFrame(spark, train, workers);
      ModelSpec spec = ModelSpec.fromJson(DemoModels.fashionCnn(seed, learningRate).toJson());
      long t0 = System.nanoTime();
      TrainJob.Result r = TrainJob.train(spark, frame, spec, ts, test.toShard(), null,
          new ConsoleProgress(System.out, epochs));
      double secs = (System.nanoTime() - t0) / 1e9;
      System.out.println();
      if (!ts.progress()) {
        for (EpochStats e : r.history().epochs()) {
          System.out.println(e.describe());
        }
      }
      EpochStats last = r.history().last();
      System.out.printf("final test accuracy: %.2f%% (%d test images); wall time %.1f s%n",
          100 * last.testAccuracy(), test.count(), secs);
      if (output.getParentFile() != null) {
        Files.createDirectories(output.getParentFile().toPath());
      }
      ModelSerializer.writeModel(r.model(), output, true);
      System.out.println("model saved to " + output.getAbsolutePath());
    }
    return 0;
  }
}
