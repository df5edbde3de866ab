package io.qsync.spark;

import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.models.DemoModels;
import io.qsync.runtime.ModelSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A Spark driver on {@code local-cluster[1,2,1536]} whose worker discovers two fake GPUs with a discovery script
 * (Spark's own test pattern) and gives each of the executor's two tasks one of them; runs a {@code plan=auto} job.
 * Prints {@code RESULT auto ok dir=<plan dir> replicas=<c0>,<c1>} or {@code RESULT auto failed <message>}. Run by
 * {@link GpuDiscoveryClusterTest} in a child JVM.
 *
 * <p>Arguments: {@code <discovery script> <plan dir>}.
 */
public final class GpuClusterDriverMain {
    private GpuClusterDriverMain() {}

    public static void main(String[] args) throws Exception {
        SparkSession spark = ClusterDrivers.builder("local-cluster[1,2,1536]", "qsync-gpu-discovery", "1200m")
                .config("spark.worker.resource.gpu.amount", "2")
                .config("spark.worker.resource.gpu.discoveryScript", args[0])
                .config("spark.executor.resource.gpu.amount", "2")
                .config("spark.task.resource.gpu.amount", "1")
                .getOrCreate();
        String outcome;
        try {
            Dataset<Row> frame = ImageFrames.toFrame(
                            spark, FashionMnist.load(FashionMnist.Split.TRAIN).head(512), 2)
                    .cache();
            TrainJob.Result r = TrainJob.train(
                    spark,
                    frame,
                    ModelSpec.fromJson(DemoModels.mlp(1, 32, 1e-3).toJson()),
                    TrainSettings.from(Map.of(
                            "spark.qsync.numWorkers", "2",
                            "spark.qsync.batchSize", "64",
                            "spark.qsync.threadsPerWorker", "1",
                            "spark.qsync.backend", "auto",
                            "spark.qsync.plan", "auto",
                            "spark.qsync.plan.outDir", args[1],
                            "spark.qsync.plan.profileSteps", "1",
                            "spark.qsync.plan.warmupSteps", "2",
                            "spark.qsync.comm.connectTimeout", "60s",
                            "spark.qsync.comm.ioTimeout", "60s")),
                    TrainOptions.none());
            outcome = "ok dir=" + r.planDir() + " replicas=" + Long.toHexString(r.replicaChecksums()[0]) + ","
                    + Long.toHexString(r.replicaChecksums()[r.replicaChecksums().length - 1]) + " devicesJson="
                    + Files.exists(Path.of(args[1], "devices.json"));
        } catch (Exception e) { // SparkException too, thrown through Scala
            outcome = "failed " + String.valueOf(e.getMessage()).replace('\n', ' ');
        }
        System.out.println("RESULT auto " + outcome);
        System.out.flush();
        spark.stop();
        System.exit(0);
    }
}
