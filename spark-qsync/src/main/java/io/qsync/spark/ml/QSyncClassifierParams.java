package io.qsync.spark.ml;

import io.qsync.spark.ConfEntry;
import io.qsync.spark.QSyncConf;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;

/**
 * The params of {@link QSyncClassifier}. Every training param stands for one {@code spark.qsync.*} setting: a param
 * set on the estimator wins; an unset one leaves the setting to the session's conf ({@code spark-submit --conf},
 * {@code SparkSession.builder().config}, {@code spark.conf().set}), and only then to its documented default.
 */
public abstract class QSyncClassifierParams extends Estimator<QSyncClassificationModel> implements HasOutputCols {
    private static final long serialVersionUID = 1L;
    private final String uid;
    private final List<Map.Entry<Param<?>, ConfEntry<?>>> bound = new ArrayList<>();
    final Param<String> modelJson;
    final IntParam numWorkers;
    final IntParam epochs;
    final IntParam batchSize;
    final IntParam numClasses;
    final LongParam seed;
    final BooleanParam shuffle;
    final IntParam checksumEvery;
    final IntParam threadsPerWorker;
    final Param<String> backend;
    final Param<String> checkpointDir;
    final BooleanParam resume;
    final Param<String> connectTimeout;
    final Param<String> ioTimeout;
    final Param<String> featuresCol;
    final Param<String> labelCol;
    final Param<String> planFile;
    final Param<String> planDevices;
    final Param<String> plan;
    final Param<String> planProfilesDir;
    final Param<String> planOutDir;
    private final OutputCols outputCols;

    QSyncClassifierParams(String uid) {
        this.uid = uid;
        modelJson =
                new Param<>(this, "modelJson", "DL4J MultiLayerConfiguration or ComputationGraphConfiguration JSON");
        numWorkers = bind(
                new IntParam(this, "numWorkers", "synchronous workers", ParamValidators.gtEq(1)),
                QSyncConf.NUM_WORKERS);
        epochs = bind(new IntParam(this, "epochs", "passes over the data", ParamValidators.gtEq(1)), QSyncConf.EPOCHS);
        batchSize = bind(
                new IntParam(this, "batchSize", "global batch size (all workers)", ParamValidators.gtEq(1)),
                QSyncConf.BATCH_SIZE);
        numClasses = bind(
                new IntParam(this, "numClasses", "labels are in [0, numClasses)", ParamValidators.gtEq(2)),
                QSyncConf.NUM_CLASSES);
        seed = bind(new LongParam(this, "seed", "seed of the per-epoch shuffles"), QSyncConf.SEED);
        shuffle = bind(new BooleanParam(this, "shuffle", "shuffle each worker's rows every epoch"), QSyncConf.SHUFFLE);
        checksumEvery = bind(
                new IntParam(
                        this,
                        "checksumEvery",
                        "compare replica checksums every this many steps",
                        ParamValidators.gtEq(0)),
                QSyncConf.CHECKSUM_EVERY);
        threadsPerWorker = bind(
                new IntParam(
                        this,
                        "threadsPerWorker",
                        "native threads per worker (0: cores / workers)",
                        ParamValidators.gtEq(0)),
                QSyncConf.THREADS_PER_WORKER);
        backend =
                bind(new Param<>(this, "backend", "what each worker trains on: cpu, cuda or auto"), QSyncConf.BACKEND);
        checkpointDir = bind(
                new Param<>(
                        this,
                        "checkpointDir",
                        "checkpoint directory, any Hadoop file system; a retried "
                                + "stage resumes from its newest checkpoint; empty: none"),
                QSyncConf.CHECKPOINT_DIR);
        resume = bind(
                new BooleanParam(
                        this, "resume", "continue the stopped fit whose checkpoints are in " + "checkpointDir"),
                QSyncConf.CHECKPOINT_RESUME);
        connectTimeout = bind(
                new Param<>(this, "connectTimeout", "wait for ring neighbours, e.g. 60s"), QSyncConf.CONNECT_TIMEOUT);
        ioTimeout = bind(
                new Param<>(this, "ioTimeout", "longest wait inside one collective, e.g. 120s"), QSyncConf.IO_TIMEOUT);
        featuresCol = bind(
                new Param<>(this, "featuresCol", "features column: array<float>, array<double> or Vector"),
                QSyncConf.FEATURES_COL);
        labelCol = bind(new Param<>(this, "labelCol", "label column (integer-valued)"), QSyncConf.LABEL_COL);
        planFile = bind(
                new Param<>(this, "planFile", "cluster plan JSON from `qsync plan`; empty: FP32 everywhere"),
                QSyncConf.PLAN_FILE);
        planDevices = bind(
                new Param<>(this, "planDevices", "device type of each worker by rank, e.g. V100,T4"),
                QSyncConf.PLAN_DEVICES);
        plan = bind(
                new Param<>(
                        this, "plan", "auto: probe the workers' devices, profile, plan and train with the plan; off"),
                QSyncConf.PLAN);
        planProfilesDir = bind(
                new Param<>(this, "planProfilesDir", "measured device profiles for plan=auto, by device type"),
                QSyncConf.PLAN_PROFILES_DIR);
        planOutDir = bind(
                new Param<>(this, "planOutDir", "where plan=auto writes plan.json and its report; empty: a temp dir"),
                QSyncConf.PLAN_OUT_DIR);
        outputCols = new OutputCols(this);
    }

    @SuppressWarnings("unchecked")
    private <P extends Param<?>> P bind(P param, ConfEntry<?> entry) {
        bound.add(Map.entry(param, entry));
        boolean typed = param instanceof IntParam || param instanceof LongParam || param instanceof BooleanParam;
        setDefault((Param<Object>) param, typed ? entry.read(Map.of()) : entry.defaultValue());
        return param;
    }

    @Override
    public String uid() {
        return uid;
    }

    /**
     * The job's {@code spark.qsync.*} settings: {@code sessionConf}, overridden by every param set on this estimator.
     */
    Map<String, String> settings(Map<String, String> sessionConf) {
        Map<String, String> s = new HashMap<>(sessionConf);
        for (Map.Entry<Param<?>, ConfEntry<?>> b : bound) {
            if (isSet(b.getKey())) {
                s.put(b.getValue().key(), String.valueOf($(b.getKey())));
            }
        }
        return s;
    }

    @Override
    public OutputCols outputCols() {
        return outputCols;
    }

    @Override
    public String explainParams() {
        return MlParams.explain(this);
    }

    /** The network's JSON configuration. */
    public Param<String> modelJson() {
        return modelJson;
    }

    /** Number of workers ({@code spark.qsync.numWorkers}). */
    public IntParam numWorkers() {
        return numWorkers;
    }

    /** Number of epochs ({@code spark.qsync.epochs}). */
    public IntParam epochs() {
        return epochs;
    }

    /** Global batch size ({@code spark.qsync.batchSize}). */
    public IntParam batchSize() {
        return batchSize;
    }

    /** Number of classes ({@code spark.qsync.numClasses}). */
    public IntParam numClasses() {
        return numClasses;
    }

    /** Shuffle seed ({@code spark.qsync.seed}). */
    public LongParam seed() {
        return seed;
    }

    /** Whether to shuffle ({@code spark.qsync.shuffle}). */
    public BooleanParam shuffle() {
        return shuffle;
    }

    /** Checksum period in steps ({@code spark.qsync.checksumEvery}). */
    public IntParam checksumEvery() {
        return checksumEvery;
    }

    /** Native threads per worker ({@code spark.qsync.threadsPerWorker}). */
    public IntParam threadsPerWorker() {
        return threadsPerWorker;
    }

    /** Ring connect timeout ({@code spark.qsync.comm.connectTimeout}). */
    public Param<String> connectTimeout() {
        return connectTimeout;
    }

    /** Collective I/O timeout ({@code spark.qsync.comm.ioTimeout}). */
    public Param<String> ioTimeout() {
        return ioTimeout;
    }

    /** Features column ({@code spark.qsync.featuresCol}). */
    public Param<String> featuresCol() {
        return featuresCol;
    }

    /** Label column ({@code spark.qsync.labelCol}). */
    public Param<String> labelCol() {
        return labelCol;
    }

    /** Cluster plan file ({@code spark.qsync.plan.file}). */
    public Param<String> planFile() {
        return planFile;
    }

    /** Device type of each worker ({@code spark.qsync.plan.devices}). */
    public Param<String> planDevices() {
        return planDevices;
    }

    /** Planning inside the job ({@code spark.qsync.plan}: off or auto). */
    public Param<String> plan() {
        return plan;
    }

    /** Measured profiles for {@code plan=auto} ({@code spark.qsync.plan.profilesDir}). */
    public Param<String> planProfilesDir() {
        return planProfilesDir;
    }

    /** Where {@code plan=auto} writes ({@code spark.qsync.plan.outDir}). */
    public Param<String> planOutDir() {
        return planOutDir;
    }

    /** The value of {@link #modelJson()}. */
    public String getModelJson() {
        return $(modelJson);
    }

    /** The value of {@link #numWorkers()}. */
    public int getNumWorkers() {
        return (Integer) $(numWorkers);
    }

    /** The value of {@link #epochs()}. */
    public int getEpochs() {
        return (Integer) $(epochs);
    }

    /** The value of {@link #batchSize()}. */
    public int getBatchSize() {
        return (Integer) $(batchSize);
    }

    /** The value of {@link #numClasses()}. */
    public int getNumClasses() {
        return (Integer) $(numClasses);
    }

    /** The value of {@link #seed()}. */
    public long getSeed() {
        return (Long) $(seed);
    }

    /** The value of {@link #shuffle()}. */
    public boolean getShuffle() {
        return (Boolean) $(shuffle);
    }

    /** The value of {@link #checksumEvery()}. */
    public int getChecksumEvery() {
        return (Integer) $(checksumEvery);
    }

    /** Checkpoint directory ({@code spark.qsync.checkpoint.dir}). */
    public Param<String> checkpointDir() {
        return checkpointDir;
    }

    /** The value of {@link #checkpointDir()}. */
    public String getCheckpointDir() {
        return $(checkpointDir);
    }

    /** Continue a stopped fit ({@code spark.qsync.checkpoint.resume}). */
    public BooleanParam resume() {
        return resume;
    }

    /** The value of {@link #resume()}. */
    public boolean getResume() {
        return (Boolean) $(resume);
    }

    /** Training backend ({@code spark.qsync.backend}: cpu, cuda or auto). */
    public Param<String> backend() {
        return backend;
    }

    /** The value of {@link #backend()}. */
    public String getBackend() {
        return $(backend);
    }

    /** The value of {@link #threadsPerWorker()}. */
    public int getThreadsPerWorker() {
        return (Integer) $(threadsPerWorker);
    }

    /** The value of {@link #connectTimeout()}. */
    public String getConnectTimeout() {
        return $(connectTimeout);
    }

    /** The value of {@link #ioTimeout()}. */
    public String getIoTimeout() {
        return $(ioTimeout);
    }

    /** The value of {@link #featuresCol()}. */
    public String getFeaturesCol() {
        return $(featuresCol);
    }

    /** The value of {@link #labelCol()}. */
    public String getLabelCol() {
        return $(labelCol);
    }

    /** The value of {@link #planFile()}. */
    public String getPlanFile() {
        return $(planFile);
    }

    /** The value of {@link #planDevices()}. */
    public String getPlanDevices() {
        return $(planDevices);
    }
}
