package io.qsync.spark;

import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.models.DemoModels;
import io.qsync.runtime.EpochStats;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.ProgressSink;
import java.io.File;
import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.deploy.LocalSparkCluster;
import org.apache.spark.deploy.LocalSparkCluster$;
import org.apache.spark.rpc.RpcEnv;
import org.apache.spark.sql.SparkSession;
import scala.collection.mutable.ArrayBuffer;

/**
 * A Spark driver on {@code local-cluster[2,1,1024]} (two real executor JVMs, each on its own in-process worker) that
 * trains and injects a fault once training is under way. Run by {@link LocalClusterFaultTest} in a child JVM, so that
 * the workers' Spark home and environment are its own. Prints {@code KILLED} when the fault is injected and
 * {@code RESULT ok|failed <seconds since the fault> <message>} at the end.
 *
 * <p>Arguments: {@code lose-node <slotWaitTimeout>}: after step 3, stop worker 1 with its executor for good (as a
 * dead node: its worker daemon and executor are gone and nothing replaces them).
 */
public final class ClusterDriverMain {
  private ClusterDriverMain() {}

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    SparkSession spark = SparkSession.builder().master("local-cluster[2,1,1024]").appName("qsync-fault-" + mode)
        .config("spark.ui.enabled", "false")
        .config("spark.executor.memory", "900m")
        .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
        .config("spark.executor.extraJavaOptions", System.getProperty("qsync.test.jvmFlags", ""))
        .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .config("spark.kryo.registrator", QSyncKryoRegistrator.class.getName())
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate();
    long[] killedAt = {0};
    AtomicBoolean killed = new AtomicBoolean();
    ProgressSink fault = new ProgressSink() {
      @Override
      public void step(int epoch, int step, int stepsPerEpoch, double loss, double samplesPerSecond) {
        if (epoch * stepsPerEpoch + step >= 3 && killed.compareAndSet(false, true)) {
          killedAt[0] = System.nanoTime();
          new Thread(ClusterDriverMain::stopWorker1).start();
        }
      }

      @Override
      public void epoch(EpochStats stats) {}

      @Override
      public void close() {}
    };
    Map<String, String> s = new HashMap<>();
    s.put("spark.qsync.numWorkers", "2");
    s.put("spark.qsync.batchSize", "64");
    s.put("spark.qsync.epochs", "50");
    s.put("spark.qsync.threadsPerWorker", "1");
    s.put("spark.qsync.comm.connectTimeout", "30s");
    s.put("spark.qsync.comm.ioTimeout", "30s");
    s.put("spark.qsync.slotWaitTimeout", args[1]);
    String outcome;
    try {
      TrainJob.train(spark, ImageFrames.toFrame(spark, FashionMnist.load(FashionMnist.Split.TRAIN).head(2048), 2),
          ModelSpec.fromJson(DemoModels.mlp(1, 32, 1e-3).toJson()), TrainSettings.from(s), null, null, fault);
      outcome = "ok";
    } catch (RuntimeException e) {
      outcome = "failed " + String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - killedAt[0]) / 1e9)
          + " " + e.getMessage().replace('\n', ' ');
    }
    System.out.println("RESULT " + outcome);
    System.out.flush();
    spark.stop();
    System.exit(0);
  }

  /** Stops worker 1 of the local cluster (its RPC endpoint and its executor process), never to return. */
  private static void stopWorker1() {
    try {
      LocalSparkCluster cluster = LocalSparkCluster$.MODULE$.get().get();
      Method m = LocalSparkCluster.class.getDeclaredMethod("workerRpcEnvs");
      m.setAccessible(true);
      @SuppressWarnings("unchecked")
      ArrayBuffer<RpcEnv> workers = (ArrayBuffer<RpcEnv>) m.invoke(cluster);
      workers.apply(1).shutdown();
      System.out.println("KILLED worker 1");
      System.out.flush();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An empty Spark home for the workers: they only need its {@code jars} folder to exist. */
  static File sparkHome(File dir) {
    File jars = new File(dir, "jars");
    if (!jars.isDirectory() && !jars.mkdirs()) {
      throw new IllegalStateException("cannot create " + jars);
    }
    return dir;
  }
}
