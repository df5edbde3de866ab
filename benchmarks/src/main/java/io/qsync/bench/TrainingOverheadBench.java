package io.qsync.bench;

import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.data.LabeledImages;
import io.qsync.models.DemoModels;
import io.qsync.runtime.LocalShard;
import io.qsync.runtime.ModelSpec;
import io.qsync.spark.QSyncConf;
import io.qsync.spark.QSyncKryoRegistrator;
import io.qsync.spark.TrainJob;
import io.qsync.spark.TrainSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Step time of 2-worker synchronous Spark training (local[2], TCP ring) over single-process DL4J {@code fit} on the
 * same global batch, in the same JVM. Usage: {@code TrainingOverheadBench <results.md> [steps] [bucketBytes]}
 * ({@code spark.qsync.comm.bucketBytes} of the distributed runs; default: the setting's default).
 */
public final class TrainingOverheadBench {
    private TrainingOverheadBench() {}

    /** Runs the benchmark and writes a Markdown report. */
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "benchmarks/results/training-overhead.md");
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        String bucketBytes = args.length > 2 ? args[2] : QSyncConf.BUCKET_BYTES.defaultValue();
        LabeledImages train = FashionMnist.load(FashionMnist.Split.TRAIN);
        StringBuilder md = new StringBuilder("# Synchronous 2-worker Spark training vs single-process DL4J\n\n");
        md.append("- Machine: ")
                .append(BenchEnv.machine())
                .append("\n- Date: ")
                .append(ZonedDateTime.now())
                .append("\n- Command: `java ... io.qsync.bench.TrainingOverheadBench ")
                .append(String.join(" ", args))
                .append("` (see benchmarks/README.md)\n- Method: the same global batches (contiguous, no shuffle); "
                        + "single process = `MultiLayerNetwork.fit` with 1 native thread and with all cores (the faster of the two is the baseline); distributed = `TrainJob` on local[2] with 2 "
                        + "workers, each computing half of the batch with cores/2 native threads, ring all-reduce over loopback "
                        + "TCP, gradient all-reduced in buckets of " + bucketBytes
                        + " bytes overlapped with the backward "
                        + "pass (spark.qsync.comm.bucketBytes; the loss travels with the last bucket). Median step time after "
                        + "10 warm-up steps; ratio = distributed / single (goal <= 1.10).\n\n")
                .append(
                        "| model | global batch | steps | single process, 1 thread, median ms | single process, all cores, "
                                + "median ms | 2 workers median ms | ratio (2 workers / best single) |\n")
                .append("|---|---|---|---|---|---|---|\n");
        SparkSession spark = SparkSession.builder()
                .master("local[2]")
                .appName("overhead-bench")
                .config("spark.ui.enabled", "false")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", QSyncKryoRegistrator.class.getName())
                .getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            for (Object[] c : List.<Object[]>of(
                    new Object[] {"fashion CNN", DemoModels.fashionCnn(1, 1e-3), 128},
                    new Object[] {"MLP 784-256-256-10", DemoModels.mlp(1, 256, 1e-3), 256})) {
                MultiLayerConfiguration conf = (MultiLayerConfiguration) c[1];
                int batch = (Integer) c[2];
                LabeledImages data = train.head(batch * (steps + 10));
                ModelSpec spec = ModelSpec.fromJson(conf.toJson());
                double single1 = singleProcess(spec, data, batch, 1);
                double singleAll =
                        singleProcess(spec, data, batch, Runtime.getRuntime().availableProcessors());
                double single = Math.min(single1, singleAll);
                TrainSettings s = TrainSettings.from(Map.of(
                        "spark.qsync.numWorkers",
                        "2",
                        "spark.qsync.batchSize",
                        Integer.toString(batch),
                        "spark.qsync.shuffle",
                        "false",
                        "spark.qsync.progress",
                        "false",
                        QSyncConf.BUCKET_BYTES.key(),
                        bucketBytes));
                TrainJob.Result r =
                        TrainJob.train(spark, ImageFrames.toFrame(spark, data, 2), spec, s, null, null, null);
                double dist = r.history().medianStepMillis(10);
                md.append(String.format(
                        "| %s | %d | %d | %.1f | %.1f | %.1f | %.3f |%n",
                        c[0], batch, steps, single1, singleAll, dist, dist / single));
                System.out.printf(
                        "%s: single %.1f ms, 2 workers %.1f ms, ratio %.3f%n", c[0], single, dist, dist / single);
            }
        } finally {
            spark.stop();
        }
        Files.createDirectories(out.getParent());
        Files.writeString(out, md.toString());
        System.out.println(md);
    }

    private static double singleProcess(ModelSpec spec, LabeledImages data, int batch, int cores) {
        Nd4j.getEnvironment().setMaxThreads(cores);
        Nd4j.getEnvironment().setMaxMasterThreads(cores);
        Nd4j.factory().blas().setMaxThreads(cores);
        MultiLayerNetwork net = (MultiLayerNetwork) spec.restore();
        LocalShard shard = data.toShard();
        List<Double> times = new ArrayList<>();
        for (int i = 0; i + batch <= shard.count(); i += batch) {
            long t0 = System.nanoTime();
            DataSet ds = shard.batch(null, i, i + batch, 10);
            net.fit(ds);
            times.add((System.nanoTime() - t0) / 1e6);
        }
        double[] t = times.subList(10, times.size()).stream()
                .mapToDouble(Double::doubleValue)
                .toArray();
        Arrays.sort(t);
        return t[t.length / 2];
    }
}
