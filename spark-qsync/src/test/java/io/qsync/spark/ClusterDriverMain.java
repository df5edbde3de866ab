package io.qsync.spark;

import io.qsync.data.FashionMnist;
import io.qsync.data.ImageFrames;
import io.qsync.models.DemoModels;
import io.qsync.runtime.EpochStats;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.ProgressSink;
import io.qsync.runtime.StepListener;
import java.io.File;
import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.deploy.LocalSparkCluster;
import org.apache.spark.deploy.LocalSparkCluster$;
import org.apache.spark.rpc.RpcEnv;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import scala.collection.mutable.ArrayBuffer;

/**
 * A Spark driver on {@code local-cluster[2,1,1024]} (two real executor JVMs, each on its own in-process worker) that
 * runs three training jobs: an uninterrupted one; one whose executor is SIGKILLed mid-epoch while it writes checkpoints
 * every 20 steps (the worker starts a new executor and the retried stage resumes); and one that loses worker 1 with
 * its executor for good after step 3 (a dead node: nothing replaces it). Run by {@link LocalClusterFaultTest} in a
 * child JVM, so that the workers' Spark home and environment are its own. Prints one {@code RESULT <job> ...} line
 * per job.
 *
 * <p>Arguments: {@code <checkpoint dir> <slotWaitTimeout>}.
 */
public final class ClusterDriverMain {
    private ClusterDriverMain() {}

    public static void main(String[] args) throws Exception {
        SparkSession spark = ClusterDrivers.builder("local-cluster[2,1,1024]", "qsync-faults", "900m")
                .getOrCreate();
        Dataset<Row> frame = ImageFrames.toFrame(
                        spark, FashionMnist.load(FashionMnist.Split.TRAIN).head(2048), 2)
                .cache();
        frame.count();
        String checkpoints = args[0];
        // 1. uninterrupted; 2. an executor SIGKILLed mid-epoch, checkpoints every 20 steps; 3. a node lost for good
        Fault none = new Fault(-1, null);
        report("uninterrupted", none, () -> train(spark, frame, none, Map.of()));
        Fault kill = new Fault(30, () -> killExecutor(spark.sparkContext().applicationId()));
        report(
                "resumed",
                kill,
                () -> train(
                        spark,
                        frame,
                        kill,
                        Map.of("spark.qsync.checkpoint.dir", checkpoints, "spark.qsync.checkpoint.everySteps", "20")));
        Fault lose = new Fault(3, ClusterDriverMain::stopWorker1);
        report("lost-node", lose, () -> train(spark, frame, lose, Map.of("spark.qsync.slotWaitTimeout", args[1])));
        spark.stop();
        System.exit(0);
    }

    /**
     * Injects {@code action} (on another thread) once rank 0 reports global step {@code atStep}, and notes where
     * progress restarts after it (a resumed attempt reports the step it resumed from first).
     */
    private static final class Fault implements ProgressSink {
        final int atStep;
        final Runnable action;
        final AtomicBoolean fired = new AtomicBoolean();
        volatile long firedNanos;
        volatile int firedStep = -1;
        volatile int resumedAt = -1;
        private int highest = -1;

        Fault(int atStep, Runnable action) {
            this.atStep = atStep;
            this.action = action;
        }

        @Override
        public synchronized void step(int epoch, int step, int stepsPerEpoch, double loss, double samplesPerSecond) {
            int global = epoch * stepsPerEpoch + step;
            if (global < highest && resumedAt < 0) {
                resumedAt = global;
            }
            highest = Math.max(highest, global);
            if (action != null && global >= atStep && fired.compareAndSet(false, true)) {
                firedNanos = System.nanoTime();
                firedStep = global;
                new Thread(action).start();
            }
        }

        @Override
        public void epoch(EpochStats stats) {}

        @Override
        public void close() {}
    }

    private static TrainJob.Result train(
            SparkSession spark, Dataset<Row> frame, Fault fault, Map<String, String> extra) {
        Map<String, String> s = new HashMap<>(extra);
        s.put("spark.qsync.numWorkers", "2");
        s.put("spark.qsync.batchSize", "64");
        s.put("spark.qsync.epochs", "3");
        s.put("spark.qsync.threadsPerWorker", "1");
        s.put("spark.qsync.comm.connectTimeout", "30s");
        s.put("spark.qsync.comm.ioTimeout", "30s");
        StepListener slow = (rank, epoch, step, global, loss) -> {
            try {
                Thread.sleep(100); // room for a fault mid-epoch (96 steps)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        return TrainJob.train(
                spark,
                frame,
                ModelSpec.fromJson(DemoModels.mlp(1, 32, 1e-3).toJson()),
                TrainSettings.from(s),
                null,
                slow,
                fault);
    }

    private static void report(String name, Fault fault, java.util.function.Supplier<TrainJob.Result> job) {
        String outcome;
        try {
            TrainJob.Result r = job.get();
            outcome = "ok checksum=" + Long.toHexString(r.replicaChecksums()[0]) + " replicas="
                    + Long.toHexString(r.replicaChecksums()[1]) + " steps="
                    + r.history().stepLosses().length;
        } catch (RuntimeException e) {
            outcome = "failed " + e.getMessage().replace('\n', ' ');
        }
        double after = fault.firedNanos == 0 ? -1 : (System.nanoTime() - fault.firedNanos) / 1e9;
        System.out.println("RESULT " + name + " faultAtStep=" + fault.firedStep + " resumedAt=" + fault.resumedAt
                + " secondsAfterFault=" + String.format(java.util.Locale.ROOT, "%.1f", after) + " " + outcome);
        System.out.flush();
    }

    private static String commandLine(long pid) {
        try {
            return new String(
                    java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc", Long.toString(pid), "cmdline")),
                    java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException | RuntimeException e) {
            return "";
        }
    }

    /** SIGKILLs one executor JVM of application {@code appId}. */
    private static void killExecutor(String appId) {
        ProcessHandle victim = ProcessHandle.allProcesses()
                .filter(p -> {
                    String c = commandLine(p.pid()); // ProcessHandle.Info cuts long command lines at 4 KiB
                    return c.contains("CoarseGrainedExecutorBackend") && c.contains(appId);
                })
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no executor process of " + appId));
        victim.destroyForcibly(); // SIGKILL
        System.out.println("KILLED executor pid " + victim.pid());
        System.out.flush();
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
