package io.qsync.spark;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The {@code spark.qsync.*} configuration surface: every setting is declared here once, typed, documented and
 * validated. {@code docs/configuration.md} is generated from this list ({@link #markdown()}), and a test keeps it in
 * sync.
 */
public final class QSyncConf {
    private static final Logger LOG = LoggerFactory.getLogger(QSyncConf.class);
    /** Prefix of every setting. */
    public static final String PREFIX = "spark.qsync.";

    private QSyncConf() {}

    /** Number of barrier tasks (workers); must not exceed the cluster's free task slots. */
    public static final ConfEntry<Integer> NUM_WORKERS = ConfEntry.intAtLeast(
            "spark.qsync.numWorkers",
            1,
            2,
            "Number of synchronous workers (barrier tasks). Must not exceed the free task slots of the cluster; the "
                    + "training data is repartitioned to this many partitions if needed.");
    /** Epochs. */
    public static final ConfEntry<Integer> EPOCHS =
            ConfEntry.intAtLeast("spark.qsync.epochs", 1, 1, "Passes over the training data.");
    /** Global batch size. */
    public static final ConfEntry<Integer> BATCH_SIZE = ConfEntry.intAtLeast(
            "spark.qsync.batchSize",
            1,
            128,
            "Global batch size: rows per synchronous step summed over all workers; each worker takes a share "
                    + "proportional to its partition.");
    /** Number of classes. */
    public static final ConfEntry<Integer> NUM_CLASSES = ConfEntry.intAtLeast(
            "spark.qsync.numClasses",
            2,
            10,
            "Labels are integers in [0, numClasses); they are one-hot encoded for the output layer.");
    /** Shuffle. */
    public static final ConfEntry<Boolean> SHUFFLE = ConfEntry.bool(
            "spark.qsync.shuffle", true, "Shuffle each worker's rows every epoch (seeded, reproducible).");
    /** Seed. */
    public static final ConfEntry<Long> SEED =
            ConfEntry.longValue("spark.qsync.seed", 42L, "Seed of the per-epoch shuffles.");
    /** Checksum period. */
    public static final ConfEntry<Integer> CHECKSUM_EVERY = ConfEntry.intAtLeast(
            "spark.qsync.checksumEvery",
            0,
            50,
            "Compare parameter checksums across workers every this many steps (and at the end); a mismatch fails the "
                    + "job. 0 checks only at the end.");
    /** Native threads per worker. */
    public static final ConfEntry<Integer> THREADS_PER_WORKER = ConfEntry.intAtLeast(
            "spark.qsync.threadsPerWorker",
            0,
            0,
            "Native (OpenMP/BLAS) threads per worker; 0 = the JVM's cores divided by the workers sharing the JVM.");
    /** Training backend. */
    public static final ConfEntry<String> BACKEND = new ConfEntry<>(
            "spark.qsync.backend",
            "What each worker trains on: `cpu` (DL4J on ND4J's CPU backend; any DL4J network, low precision emulated), "
                    + "`cuda` (the task's GPU, device-resident; fails with the list of unsupported layers if the network has "
                    + "any), or `auto` (per worker: the usable backend of highest priority that supports the network, i.e. "
                    + "`cuda` when the task sees a GPU and the backend is on the class path, else `cpu`). Backends are found "
                    + "through java.util.ServiceLoader (io.qsync.runtime.TrainingBackend). The default stays `cpu` until the "
                    + "CUDA backend has been verified on a GPU.",
            "cpu",
            v -> v.trim().toLowerCase(java.util.Locale.ROOT),
            v -> v.matches("[a-z][a-z0-9_-]*"),
            "must be a backend name (cpu, cuda) or auto");
    /** Connect timeout. */
    public static final ConfEntry<Duration> CONNECT_TIMEOUT = ConfEntry.duration(
            "spark.qsync.comm.connectTimeout",
            "60s",
            "How long a worker waits for its ring neighbours to connect before failing the stage.");
    /** I/O timeout. */
    public static final ConfEntry<Duration> IO_TIMEOUT = ConfEntry.duration(
            "spark.qsync.comm.ioTimeout",
            "120s",
            "Longest wait for a peer inside one collective (a step's all-reduce); on expiry the stage fails.");
    /** Chunk size. */
    public static final ConfEntry<Integer> CHUNK_BYTES = ConfEntry.intAtLeast(
            "spark.qsync.comm.chunkBytes", 4096, 1 << 20, "Pipelining chunk of the TCP ring all-reduce, in bytes.");
    /** Connections per ring neighbour. */
    public static final ConfEntry<Integer> CONNECTIONS = ConfEntry.intAtLeast(
            "spark.qsync.comm.connections",
            1,
            io.qsync.comm.CommConfig.DEFAULT_CONNECTIONS,
            "TCP connections from each worker to each ring neighbour (at most 16), each with its own thread: an "
                    + "all-reduce of at least 1 MiB per connection is cut into one stripe per connection, since one socket "
                    + "and one thread cannot fill a fast link. Every worker must use the same value.");
    /** Collective among a host's workers. */
    public static final ConfEntry<io.qsync.comm.HostCollective> COLLECTIVE = new ConfEntry<>(
            io.qsync.comm.HostCollective.KEY,
            "What the workers of one host use among themselves for the gradient exchange: `auto` (NCCL among a host's "
                    + "workers when every one of them is a GPU worker of the cuda backend with a GPU of its own, the TCP "
                    + "ring among hosts' leaders and for every other worker), `ring` (the TCP ring among all workers), or "
                    + "`nccl` (as auto, but a host whose workers cannot share NCCL fails the job). NCCL runs with NVLink "
                    + "multicast off (NCCL_NVLS_ENABLE=0).",
            "auto",
            io.qsync.comm.HostCollective::parse,
            v -> true,
            "must be auto, ring or nccl");
    /** Gradient bucket size. */
    public static final ConfEntry<Integer> BUCKET_BYTES = ConfEntry.intAtLeast(
            "spark.qsync.comm.bucketBytes",
            0,
            (int) io.qsync.runtime.SyncStep.DEFAULT_BUCKET_BYTES,
            "Gradient bytes per all-reduce overlapped with the backward pass (PyTorch DDP's default, 25 MiB): the "
                    + "gradient is cut into buckets from its last layer backwards, and each bucket's all-reduce starts on a "
                    + "communication thread as soon as the backward pass has produced it; the loss travels with the last "
                    + "bucket. 0 = one all-reduce after the whole backward pass. plan=auto replays the same buckets. A "
                    + "network whose gradient is below it gets no overlap: e.g. 4194304 hides most of a 9 MB gradient's "
                    + "exchange on a GPU worker.");
    /** Progress reporting. */
    public static final ConfEntry<Boolean> PROGRESS = ConfEntry.bool(
            "spark.qsync.progress",
            true,
            "Stream per-step progress from rank 0 to the driver, which prints a progress line (the CLI) or logs one "
                    + "line per tenth of an epoch (the Estimator).");
    /** Features column. */
    public static final ConfEntry<String> FEATURES_COL = ConfEntry.string(
            "spark.qsync.featuresCol", "features", "Input column of array<float> (or array<double>) features.");
    /** Label column. */
    public static final ConfEntry<String> LABEL_COL =
            ConfEntry.string("spark.qsync.labelCol", "label", "Input column of integer labels.");
    /** Cluster plan file. */
    public static final ConfEntry<String> PLAN_FILE = ConfEntry.string(
            "spark.qsync.plan.file",
            "",
            "Cluster plan JSON written by `qsync plan` (plan.json). Each worker trains with the layer precisions of its "
                    + "device type and takes the plan's batch share (its partition is sized accordingly); needs "
                    + "spark.qsync.plan.devices, and spark.qsync.batchSize equal to the plan's global batch. Empty: every "
                    + "worker trains in FP32.");
    /** Device type of every worker. */
    public static final ConfEntry<String> PLAN_DEVICES = ConfEntry.string(
            "spark.qsync.plan.devices",
            "",
            "Device type of each worker by rank, comma-separated (e.g. `V100,T4`), as named in the plan file; as many "
                    + "entries as spark.qsync.numWorkers, and as many of each type as the plan has workers of that type. "
                    + "With spark.qsync.plan=auto it overrides the discovered type names; an empty entry keeps the "
                    + "rank's discovered type (e.g. `h100,`).");
    /** Plan inside the job. */
    public static final ConfEntry<String> PLAN = new ConfEntry<>(
            "spark.qsync.plan",
            "`auto`: the job plans for itself. A short probe stage finds every worker's device (Spark's GPU addresses, "
                    + "else the visible devices, else the CPU; spark.qsync.plan.devices overrides the type names); a device "
                    + "type with a profile in spark.qsync.plan.profilesDir uses it, one without is profiled inside the job on "
                    + "one worker of that type, the built-in catalog is the last resort (logged as a warning); the driver "
                    + "computes the indicator from a few batches of the model, plans (Replayer + Allocator), writes plan.json, "
                    + "the report and devices.json to spark.qsync.plan.outDir, logs the verdict and trains with the plan. "
                    + "`off`: spark.qsync.plan.file or FP32.",
            "off",
            v -> v.trim().toLowerCase(java.util.Locale.ROOT),
            v -> v.equals("off") || v.equals("auto"),
            "must be off or auto");
    /** Measured profiles for plan=auto. */
    public static final ConfEntry<String> PLAN_PROFILES_DIR = ConfEntry.string(
            "spark.qsync.plan.profilesDir",
            "",
            "Directory (on the driver) of measured device profiles for spark.qsync.plan=auto: JSON files written by `qsync "
                    + "profile-device` or GPU profiles (benchmarks/profiles/<card>.json), found by device type (file name or "
                    + "profile name, e.g. h100.json for type h100). Empty: every device type is profiled inside the job.");
    /** Where plan=auto writes. */
    public static final ConfEntry<String> PLAN_OUT_DIR = ConfEntry.string(
            "spark.qsync.plan.outDir",
            "",
            "Where spark.qsync.plan=auto writes plan.json, plan.txt, report.html and devices.json. Empty: next to the "
                    + "model for `qsync train` (its --output directory), a new temporary directory otherwise (logged).");
    /** Steps of in-job profiling. */
    public static final ConfEntry<Integer> PLAN_PROFILE_STEPS = ConfEntry.intAtLeast(
            "spark.qsync.plan.profileSteps",
            1,
            11,
            "Measured training steps per calibration plan when spark.qsync.plan=auto profiles a device type inside the "
                    + "job (after 2 unmeasured ones; the median is used). With 5, an H100 slice's step model fitted "
                    + "with a 7.8% rms residual in one job of five.");
    /** Steps of the co-run. */
    public static final ConfEntry<Integer> PLAN_CO_RUN_STEPS = ConfEntry.intAtLeast(
            "spark.qsync.plan.coRunSteps",
            0,
            10,
            "Measured synchronized steps of all ranks together in spark.qsync.plan=auto's probe stage, per "
                    + "configuration (after 3 unmeasured ones): uniform FP32, then, when a rank trains on a GPU, uniform "
                    + "FP16 and uniform INT8 on the GPUs (FP32 again on CPUs). Their compute and exchange, against what "
                    + "the profiles predict for them, scale each device type's FP32 work, its INT8 work, its other "
                    + "low-precision work, and the link "
                    + "(workers sharing a card or a host's memory run slower side by side than profiled alone); how "
                    + "much each rank's step varies from step to step gives the Replayer the wait for the latest of "
                    + "balanced workers. 0: no co-run.");
    /** Warm-up before the indicator. */
    public static final ConfEntry<Integer> PLAN_WARMUP_STEPS = ConfEntry.intAtLeast(
            "spark.qsync.plan.warmupSteps",
            0,
            10,
            "FP32 steps of the model on the driver, on the job's first rows, before spark.qsync.plan=auto collects the "
                    + "indicator statistics (on a copy: training starts from the initial model).");
    /** Indicator of plan=auto. */
    public static final ConfEntry<String> PLAN_INDICATOR = new ConfEntry<>(
            "spark.qsync.plan.indicator",
            "Sensitivity indicator spark.qsync.plan=auto plans with: `gvar`, `wvar` or `hess`.",
            "gvar",
            v -> v.trim().toLowerCase(java.util.Locale.ROOT),
            v -> v.equals("gvar") || v.equals("wvar") || v.equals("hess"),
            "must be gvar, wvar or hess");
    /** Follow the rebalance advice. */
    public static final ConfEntry<Boolean> PLAN_REBALANCE = ConfEntry.bool(
            "spark.qsync.plan.rebalance",
            true,
            "With spark.qsync.plan=auto, follow the planner when it finds rebalancing the batch (every type at its "
                    + "highest precision) or leaving a device type out faster than the quantized plan; false: train the "
                    + "quantized plan on every worker and only report the advice.");
    /** CPU workers next to GPU workers. */
    public static final ConfEntry<Integer> DEVICE_CPU_WORKERS = ConfEntry.intAtLeast(
            "spark.qsync.device.cpuWorkers",
            0,
            0,
            "The last this many ranks train on the CPU even where a GPU is visible (a GPU worker and a CPU worker on one "
                    + "machine, e.g. local[2]).");
    /** Experimental SM slicing. */
    public static final ConfEntry<Double> SM_FRACTION = new ConfEntry<>(
            "spark.qsync.experimental.smFraction",
            "EXPERIMENTAL. Two workers sharing one GPU as a strong and a weak device: odd ranks get a CUDA green context "
                    + "of about this share of the streaming multiprocessors, even ranks the rest (e.g. 0.25 for 1/4 and 3/4). "
                    + "Emulates fewer SMs (compute); does not emulate memory bandwidth, L2, clocks or the smaller card's "
                    + "architecture. Needs CUDA driver >= 12.4. Set CUDA_DEVICE_MAX_CONNECTIONS=32 in the workers' "
                    + "environment (spark.executorEnv.CUDA_DEVICE_MAX_CONNECTIONS, which qsync train sets; in local "
                    + "mode the shell's): with the default 8 hardware work queues one worker's step can wait for the "
                    + "other's, and a worker with fewer logs a warning. 0 = off.",
            "0",
            Double::parseDouble,
            v -> v >= 0 && v < 1,
            "must be a number in [0, 1)");
    /** Memory cap of the weak slice. */
    public static final ConfEntry<Integer> WEAK_MEMORY_MIB = ConfEntry.intAtLeast(
            "spark.qsync.experimental.weakMemoryMiB",
            0,
            0,
            "EXPERIMENTAL. Device memory cap, in MiB, of the weak slice of spark.qsync.experimental.smFraction (e.g. "
                    + "24576 for an L4-sized worker); enforced by the CUDA backend's allocator. 0 = no cap.");

    /** Dataset directory. */
    public static final ConfEntry<String> DATA_DIR = ConfEntry.string(
            "spark.qsync.data.dir",
            "/usr/share/datasets/fashion-mnist",
            "Directory of the Fashion-MNIST IDX .gz files used by the CLI demo.");

    /** Slot wait. */
    public static final ConfEntry<Duration> SLOT_WAIT_TIMEOUT = ConfEntry.duration(
            "spark.qsync.slotWaitTimeout",
            "300s",
            "Longest wait for the cluster to offer spark.qsync.numWorkers task slots at once: before the job "
                    + "starts, and for each attempt of the barrier stage (a retry after a lost executor or node). Then the job "
                    + "is cancelled with a message giving the slots needed and available.");

    /** Plain-text ring under Spark encryption. */
    public static final ConfEntry<Boolean> ALLOW_PLAINTEXT = ConfEntry.bool(
            "spark.qsync.comm.allowPlaintext",
            false,
            "Send gradients in clear text even while Spark encrypts its own traffic (spark.network.crypto.enabled or "
                    + "spark.ssl.enabled). Without it such a job encrypts the ring's frames (AES-256-GCM, keys derived from "
                    + "the application secret; needs spark.authenticate) or refuses to start. The ring and the progress port "
                    + "are authenticated whenever spark.authenticate is on.");

    /** Checkpoint directory. */
    public static final ConfEntry<String> CHECKPOINT_DIR = ConfEntry.string(
            "spark.qsync.checkpoint.dir",
            "",
            "Directory (any Hadoop file system: hdfs://, s3a://, a local path) for checkpoints of parameters, updater state "
                    + "and data position. A retried attempt of the training stage resumes from the newest one; empty: no "
                    + "checkpoints, a retry starts over.");
    /** Checkpoint period. */
    public static final ConfEntry<Integer> CHECKPOINT_EVERY = ConfEntry.intAtLeast(
            "spark.qsync.checkpoint.everySteps",
            1,
            100,
            "Write a checkpoint every this many steps (rank 0 writes; the two newest are kept).");
    /** Resume a stopped job. */
    public static final ConfEntry<Boolean> CHECKPOINT_RESUME = ConfEntry.bool(
            "spark.qsync.checkpoint.resume",
            false,
            "Continue a stopped job from the newest checkpoint in spark.qsync.checkpoint.dir (same data and settings). "
                    + "Without it a job refuses to start in a directory that already holds checkpoints.");

    /** Every setting, in documentation order. */
    public static final List<ConfEntry<?>> ALL = List.of(
            NUM_WORKERS,
            EPOCHS,
            BATCH_SIZE,
            NUM_CLASSES,
            SHUFFLE,
            SEED,
            CHECKSUM_EVERY,
            THREADS_PER_WORKER,
            BACKEND,
            CONNECT_TIMEOUT,
            IO_TIMEOUT,
            CHUNK_BYTES,
            CONNECTIONS,
            COLLECTIVE,
            BUCKET_BYTES,
            PROGRESS,
            FEATURES_COL,
            LABEL_COL,
            PLAN_FILE,
            PLAN_DEVICES,
            PLAN,
            PLAN_PROFILES_DIR,
            PLAN_OUT_DIR,
            PLAN_PROFILE_STEPS,
            PLAN_WARMUP_STEPS,
            PLAN_INDICATOR,
            PLAN_REBALANCE,
            PLAN_CO_RUN_STEPS,
            DEVICE_CPU_WORKERS,
            SM_FRACTION,
            WEAK_MEMORY_MIB,
            DATA_DIR,
            SLOT_WAIT_TIMEOUT,
            ALLOW_PLAINTEXT,
            CHECKPOINT_DIR,
            CHECKPOINT_EVERY,
            CHECKPOINT_RESUME);

    /** The {@code spark.qsync.*} keys of {@code settings} that are not declared here (typos, removed settings). */
    public static List<String> unknownKeys(Map<String, String> settings) {
        return settings.keySet().stream()
                .filter(k -> k.startsWith(PREFIX))
                .filter(k -> ALL.stream().noneMatch(e -> e.key().equals(k)))
                .sorted()
                .toList();
    }

    /** Logs a warning for every unknown {@code spark.qsync.*} key (Spark itself warns about unknown keys the same way). */
    public static void warnUnknown(Map<String, String> settings) {
        for (String k : unknownKeys(settings)) {
            LOG.warn(
                    "ignoring unknown setting {}={}; known settings are listed in docs/configuration.md",
                    k,
                    settings.get(k));
        }
    }

    /** Every {@code spark.qsync.*} entry of a SparkConf (for example those given to spark-submit with --conf). */
    public static Map<String, String> from(SparkConf conf) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Tuple2<String, String> kv : conf.getAll()) {
            if (kv._1().startsWith(PREFIX)) {
                out.put(kv._1(), kv._2());
            }
        }
        return out;
    }

    /**
     * Every {@code spark.qsync.*} setting of a session: its SparkContext's conf (spark-submit {@code --conf},
     * {@code SparkSession.builder().config}) overlaid with the session's runtime conf ({@code spark.conf().set}).
     */
    public static Map<String, String> from(SparkSession spark) {
        Map<String, String> out = from(spark.sparkContext().getConf());
        for (ConfEntry<?> e : ALL) {
            if (spark.conf().contains(e.key())) {
                out.put(e.key(), spark.conf().get(e.key()));
            }
        }
        return out;
    }

    /** The reference table of all settings, in Markdown. */
    public static String markdown() {
        StringBuilder sb = new StringBuilder("# Configuration (`spark.qsync.*`)\n\n"
                + "Generated from `io.qsync.spark.QSyncConf`; do not edit by hand.\n\n"
                + "| key | default | meaning |\n|---|---|---|\n");
        for (ConfEntry<?> e : ALL) {
            sb.append("| `")
                    .append(e.key())
                    .append("` | `")
                    .append(e.defaultValue())
                    .append("` | ")
                    .append(e.doc())
                    .append(" (")
                    .append(e.rule())
                    .append(") |\n");
        }
        return sb.toString();
    }
}
