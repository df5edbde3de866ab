package io.qsync.spark;

import io.qsync.comm.CommConfig;
import io.qsync.runtime.LocalShard;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.ProgressSink;
import io.qsync.runtime.RuntimeParams;
import io.qsync.runtime.ShardSchedule;
import io.qsync.runtime.StepListener;
import io.qsync.runtime.TrainingHistory;
import io.qsync.spark.devices.DiscoveryOptions;
import io.qsync.spark.devices.GpuStageResources;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.api.Model;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * Driver side of synchronous data-parallel training: pre-flight checks (workers vs free task slots, dynamic
 * allocation, columns, every input row once: {@link InputCheck}; rows per worker), one barrier stage of {@code numWorkers} tasks, and the trained model's return to the driver
 * through a shuffle ({@code repartition(1)}), which makes the barrier stage a retryable shuffle-map stage.
 */
public final class TrainJob {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TrainJob.class);

    /** Broadcasts of worker inputs made by jobs of this JVM and not yet destroyed (0 between jobs). */
    private static final java.util.concurrent.atomic.AtomicInteger LIVE_INPUTS =
            new java.util.concurrent.atomic.AtomicInteger();

    private TrainJob() {}

    /**
     * What every worker receives. Broadcast once as Java-serialized bytes, so it works with any
     * {@code spark.serializer} (Kryo 4 cannot serialize records).
     */
    record WorkerInputs(
            ModelSpec model,
            RuntimeParams params,
            CommConfig comm,
            String featuresCol,
            String labelCol,
            LocalShard eval,
            StepListener listener,
            String progressAddress,
            List<String> plans,
            JobSecurity security,
            FaultSettings faults,
            DiscoveryOptions devices,
            List<String> plannedTypes)
            implements Serializable {

        byte[] toBytes() {
            java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
            try (java.io.ObjectOutputStream oos = new java.io.ObjectOutputStream(bos)) {
                oos.writeObject(this);
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "cannot serialize the worker inputs (is the StepListener serializable?)", e);
            }
            return bos.toByteArray();
        }

        static WorkerInputs fromBytes(byte[] bytes) {
            try (java.io.ObjectInputStream ois =
                    new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes))) {
                return (WorkerInputs) ois.readObject();
            } catch (IOException | ClassNotFoundException e) {
                throw new IllegalStateException("cannot decode the worker inputs", e);
            }
        }
    }

    /**
     * The trained model on the driver, its history, the parameter checksum of every replica (indexed by rank), and with
     * {@code spark.qsync.plan=auto} where the plan and its report were written, the planner's verdict and its
     * prediction against the measured iteration ({@code measured.json} beside the plan) (else null).
     */
    public record Result(
            Model model,
            TrainingHistory history,
            long[] replicaChecksums,
            java.nio.file.Path planDir,
            String verdict,
            PlanCheck planCheck) {
        /** A result without a plan made in the job. */
        public Result(Model model, TrainingHistory history, long[] replicaChecksums) {
            this(model, history, replicaChecksums, null, null, null);
        }
    }

    /**
     * Trains {@code model} on {@code data}.
     *
     * @param eval     evaluation rows scored after every epoch (may be null)
     * @param listener called on every worker after every step (may be null)
     * @param progress receives live progress on the driver (may be null)
     * @throws IllegalArgumentException before launching anything, if the job cannot run as configured
     */
    public static Result train(
            SparkSession spark,
            Dataset<Row> data,
            ModelSpec model,
            TrainSettings settings,
            LocalShard eval,
            StepListener listener,
            ProgressSink progress) {
        return train(spark, data, model, settings, new TrainOptions(eval, listener, progress, List.of(), List.of()));
    }

    /**
     * Trains {@code model} on {@code data} with optional evaluation, listener, progress and per-worker precision plans.
     *
     * @throws IllegalArgumentException before launching anything, if the job cannot run as configured (the message
     *                                  names the setting to change)
     */
    public static Result train(
            SparkSession spark, Dataset<Row> data, ModelSpec model, TrainSettings settings, TrainOptions options) {
        SparkVersionCheck.require();
        SparkContext sc = spark.sparkContext();
        preflight(sc, data, settings);
        if (!settings.planFile().isEmpty()) {
            if (!options.plansByRank().isEmpty() || !options.batchWeights().isEmpty()) {
                throw new IllegalArgumentException("both spark.qsync.plan.file and per-worker plans/batch weights in "
                        + "TrainOptions were given; use one of them");
            }
            options = options.withClusterPlan(ClusterPlanBinding.load(settings));
        }
        AutoPlan.Outcome auto = null;
        if (settings.autoPlan().auto()) {
            if (!options.plansByRank().isEmpty() || !options.batchWeights().isEmpty()) {
                throw new IllegalArgumentException("both spark.qsync.plan=auto and per-worker plans/batch weights in "
                        + "TrainOptions were given; use one of them");
            }
            auto = AutoPlan.make(sc, data.select(settings.featuresCol(), settings.labelCol()), model, settings);
            settings = auto.settings();
            options = options.withClusterPlan(auto.binding());
        }
        if (!options.batchWeights().isEmpty() && options.batchWeights().size() != settings.numWorkers()) {
            throw new IllegalArgumentException(
                    options.batchWeights().size() + " batch weights for spark.qsync.numWorkers=" + settings.numWorkers()
                            + "; give one per worker (index = rank)");
        }
        List<String> plans = WorkerPlans.validate(options.plansByRank(), settings.numWorkers());
        if (!plans.isEmpty()) {
            model = WorkerPlans.switchable(model, options.plansByRank());
        }
        LocalShard eval = options.eval();
        StepListener listener = options.listener();
        ProgressSink progress = options.progress();
        Dataset<Row> selected = data.select(settings.featuresCol(), settings.labelCol());
        InputCheck.Counts counts = InputCheck.check(
                selected,
                settings.featuresCol(),
                settings.labelCol(),
                settings.runtime().numClasses());
        RDD<Row> input = BarrierInput.prepare(selected, settings.numWorkers(), options.batchWeights());
        // rows per worker: every worker needs a share of every step (the schedule's own check, run before launching)
        new ShardSchedule(
                input == selected.rdd() ? counts.perPartition() : BarrierInput.countPerPartition(input),
                settings.runtime().globalBatchSize());
        JobSecurity security = JobSecurity.forJob(sc.getConf(), settings.faults());
        ProgressServer server = null;
        try {
            if (settings.progress() && progress != null) {
                server = new ProgressServer(
                        sc.getConf().get("spark.driver.host", "localhost"), progress, security.progressKey());
            }
            WorkerInputs in = new WorkerInputs(
                    model,
                    settings.runtime(),
                    settings.comm(),
                    settings.featuresCol(),
                    settings.labelCol(),
                    eval,
                    listener,
                    server == null ? null : server.address(),
                    plans,
                    security,
                    settings.faults(),
                    settings.devices(),
                    options.plannedTypes());
            ClassTag<byte[]> tag = ClassTag$.MODULE$.apply(byte[].class);
            Broadcast<byte[]> b = sc.broadcast(in.toBytes(), tag);
            LIVE_INPUTS.incrementAndGet();
            List<byte[]> out;
            try {
                sc.setJobDescription("qsync: synchronous training, " + settings.numWorkers() + " workers");
                RDD<byte[]> trained =
                        GpuStageResources.apply(input.barrier().mapPartitions(new BarrierTrainTask(b), false, tag), sc);
                out = collectWatched(sc, JavaRDD.fromRDD(trained.repartition(1, null), tag), settings);
            } finally {
                b.destroy(); // also when the job fails: the inputs (model, eval rows) are large
                LIVE_INPUTS.decrementAndGet();
            }
            if (out.size() != settings.numWorkers()) {
                throw new IllegalStateException(
                        "expected " + settings.numWorkers() + " worker results, got " + out.size());
            }
            List<TrainedResult> results =
                    out.stream().map(TrainedResult::fromBytes).toList();
            FailurePolicy.throwIfFailed(results);
            long[] checksums = new long[out.size()];
            TrainedResult first = null;
            for (TrainedResult r : results) {
                checksums[r.rank()] = r.checksum();
                if (r.rank() == 0) {
                    first = r;
                }
            }
            if (first == null) {
                throw new IllegalStateException("rank 0 returned no model");
            }
            PlanCheck check = null;
            if (auto != null) {
                TrainingHistory[] histories = new TrainingHistory[results.size()];
                results.forEach(r -> histories[r.rank()] = r.history());
                check = PlanCheck.of(auto.plan(), auto.predicted(), auto.rankTypes(), Arrays.asList(histories));
            }
            if (check != null) {
                check.save(auto.dir());
                LOG.info(check + check.describeRanks());
            }
            return new Result(
                    new ModelSpec(first.modelZip(), first.graph()).restore(),
                    first.history(),
                    checksums,
                    auto == null ? null : auto.dir(),
                    auto == null ? null : auto.verdict(),
                    check);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the driver's progress endpoint", e);
        } finally {
            if (server != null) {
                server.close();
            }
        }
    }

    /**
     * Runs the training job under a {@link SlotWatchdog}: if an attempt of the barrier stage cannot get its slots within
     * {@code spark.qsync.slotWaitTimeout}, the job is cancelled and this throws the watchdog's message.
     */
    private static List<byte[]> collectWatched(SparkContext sc, JavaRDD<byte[]> job, TrainSettings settings) {
        String jobTag = "qsync-train-" + java.util.UUID.randomUUID();
        sc.addJobTag(jobTag);
        try (SlotWatchdog watchdog =
                new SlotWatchdog(sc, settings.numWorkers(), settings.faults().slotWait(), jobTag)) {
            try {
                return job.collect();
            } catch (Exception e) { // SparkException, thrown through Scala
                if (watchdog.failure() != null) {
                    throw new IllegalStateException(watchdog.failure(), e);
                }
                throw e;
            }
        } finally {
            sc.removeJobTag(jobTag);
        }
    }

    /** Checks that the job can start; every message names the setting to change. */
    /** Broadcasts of worker inputs not yet destroyed: 0 whenever no job of this JVM runs. */
    static int liveInputBroadcasts() {
        return LIVE_INPUTS.get();
    }

    static void preflight(SparkContext sc, Dataset<Row> data, TrainSettings s) {
        List<String> cols = Arrays.asList(data.columns());
        for (String c : List.of(s.featuresCol(), s.labelCol())) {
            if (!cols.contains(c)) {
                throw new IllegalArgumentException("input has no column '" + c + "' (columns: " + cols + "); set "
                        + "spark.qsync.featuresCol / spark.qsync.labelCol");
            }
        }
        if (sc.getConf().getBoolean("spark.dynamicAllocation.enabled", false)) {
            throw new IllegalArgumentException("barrier-mode training needs a fixed set of executors: set "
                    + "spark.dynamicAllocation.enabled=false");
        }
        HadoopCheckpointStore checkpoints = s.faults().checkpoints();
        if (checkpoints != null) {
            long latest = checkpoints.latestStep();
            if (latest >= 0 && !s.faults().resume()) {
                throw new IllegalArgumentException(
                        "spark.qsync.checkpoint.dir " + s.faults().checkpointDir() + " already holds"
                                + " checkpoints (newest after step " + latest
                                + "); set spark.qsync.checkpoint.resume=true to continue "
                                + "that job, or use an empty directory");
            }
            if (latest < 0 && s.faults().resume()) {
                throw new IllegalArgumentException(
                        "spark.qsync.checkpoint.resume is set but " + s.faults().checkpointDir()
                                + " (spark.qsync.checkpoint.dir) holds no checkpoint to resume from");
            }
        }
        int slots = awaitSlots(sc, s.numWorkers(), s.faults().slotWait());
        if (s.numWorkers() > slots) {
            throw new IllegalArgumentException("spark.qsync.numWorkers=" + s.numWorkers() + " exceeds the " + slots
                    + " task slots of this cluster (" + sc.master() + "); barrier mode runs all workers at once. Lower "
                    + "spark.qsync.numWorkers (--workers) or add executors/cores"
                    + (isLocal(sc)
                            ? ""
                            : " (waited spark.qsync.slotWaitTimeout="
                                    + s.faults().slotWait().toSeconds() + "s)"));
        }
    }

    /** Task slots once there are {@code needed}, or after {@code wait} (at once in local mode: slots never change). */
    private static int awaitSlots(SparkContext sc, int needed, java.time.Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        int slots = freeSlots(sc);
        while (slots < needed && !isLocal(sc) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(250); // executors still registering
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            slots = freeSlots(sc);
        }
        return slots;
    }

    private static boolean isLocal(SparkContext sc) {
        return sc.master().startsWith("local[") || sc.master().equals("local");
    }

    /** Task slots of the default resource profile (what Spark's own barrier check uses). */
    static int freeSlots(SparkContext sc) {
        try {
            return sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile());
        } catch (RuntimeException | LinkageError e) {
            return sc.defaultParallelism();
        }
    }
}
