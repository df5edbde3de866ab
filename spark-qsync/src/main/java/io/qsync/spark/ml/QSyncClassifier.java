package io.qsync.spark.ml;

import io.qsync.runtime.ModelSpec;
import io.qsync.spark.LoggingProgress;
import io.qsync.spark.QSyncConf;
import io.qsync.spark.TrainJob;
import io.qsync.spark.TrainOptions;
import io.qsync.spark.TrainSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.util.ModelSerializer;

/**
 * Spark ML {@code Estimator} that trains a DL4J network (given by its JSON configuration) with synchronous
 * data-parallel workers in one Spark barrier stage. Input: a features column ({@code array<float>},
 * {@code array<double>} or {@code Vector}) and an integer-valued label column. {@link #fit} returns a
 * {@link QSyncClassificationModel}, which adds {@code rawPrediction}, {@code probability} and {@code prediction}
 * columns as Spark ML's probabilistic classifiers do. Params left unset take the session's {@code spark.qsync.*}
 * settings (see {@link QSyncClassifierParams}).
 *
 * <pre>{@code
 * QSyncClassifier clf = new QSyncClassifier().setModelJson(conf.toJson()).setNumWorkers(2).setEpochs(3);
 * QSyncClassificationModel m = clf.fit(train);
 * m.transform(test).select("probability", "prediction").show();
 * }</pre>
 */
public final class QSyncClassifier extends QSyncClassifierParams implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    /** A classifier with a random uid. */
    public QSyncClassifier() {
        this(Identifiable$.MODULE$.randomUID("qsyncClassifier"));
    }

    /** A classifier with the given uid (used by persistence and {@link #copy}). */
    public QSyncClassifier(String uid) {
        super(uid);
    }

    private <T> QSyncClassifier with(Param<T> p, T v) {
        set(p, v);
        return this;
    }

    /** Sets {@link #modelJson()}. */
    public QSyncClassifier setModelJson(String v) {
        return with(modelJson, v);
    }

    /** Sets {@link #numWorkers()}. */
    public QSyncClassifier setNumWorkers(int v) {
        return with(numWorkers, v);
    }

    /** Sets {@link #epochs()}. */
    public QSyncClassifier setEpochs(int v) {
        return with(epochs, v);
    }

    /** Sets {@link #batchSize()}. */
    public QSyncClassifier setBatchSize(int v) {
        return with(batchSize, v);
    }

    /** Sets {@link #numClasses()}. */
    public QSyncClassifier setNumClasses(int v) {
        return with(numClasses, v);
    }

    /** Sets {@link #seed()}. */
    public QSyncClassifier setSeed(long v) {
        return with(seed, v);
    }

    /** Sets {@link #shuffle()}. */
    public QSyncClassifier setShuffle(boolean v) {
        return with(shuffle, v);
    }

    /** Sets {@link #checksumEvery()}. */
    public QSyncClassifier setChecksumEvery(int v) {
        return with(checksumEvery, v);
    }

    /** Sets {@link #backend()}: {@code cpu}, {@code cuda} or {@code auto} ({@code spark.qsync.backend}). */
    public QSyncClassifier setBackend(String v) {
        return with(backend, v);
    }

    /** Sets {@link #checkpointDir()}: any Hadoop file system ({@code spark.qsync.checkpoint.dir}); empty: none. */
    public QSyncClassifier setCheckpointDir(String v) {
        return with(checkpointDir, v);
    }

    /** Sets {@link #resume()}: continue the stopped fit whose checkpoints are in the checkpoint directory. */
    public QSyncClassifier setResume(boolean v) {
        return with(resume, v);
    }

    /** Sets {@link #threadsPerWorker()}. */
    public QSyncClassifier setThreadsPerWorker(int v) {
        return with(threadsPerWorker, v);
    }

    /** Sets {@link #connectTimeout()}, e.g. {@code 60s}. */
    public QSyncClassifier setConnectTimeout(String v) {
        return with(connectTimeout, v);
    }

    /** Sets {@link #ioTimeout()}, e.g. {@code 120s}. */
    public QSyncClassifier setIoTimeout(String v) {
        return with(ioTimeout, v);
    }

    /** Sets {@link #featuresCol()}. */
    public QSyncClassifier setFeaturesCol(String v) {
        return with(featuresCol, v);
    }

    /** Sets {@link #labelCol()}. */
    public QSyncClassifier setLabelCol(String v) {
        return with(labelCol, v);
    }

    /** Trains with a cluster plan from {@code qsync plan} ({@code spark.qsync.plan.file}). */
    public QSyncClassifier setPlanFile(String v) {
        return with(planFile, v);
    }

    /** Device type of each worker by rank, comma-separated, e.g. {@code V100,T4} ({@code spark.qsync.plan.devices}). */
    public QSyncClassifier setPlanDevices(String v) {
        return with(planDevices, v);
    }

    /**
     * {@code auto}: the fit probes its workers' devices, profiles the device types without a measured profile, plans
     * per-layer precisions and batch shares, and trains with the plan ({@code spark.qsync.plan}); {@code off}: not.
     */
    public QSyncClassifier setPlan(String v) {
        return with(plan, v);
    }

    /** Measured device profiles for {@code plan=auto}, by device type ({@code spark.qsync.plan.profilesDir}). */
    public QSyncClassifier setPlanProfilesDir(String v) {
        return with(planProfilesDir, v);
    }

    /** Where {@code plan=auto} writes plan.json, its report and devices.json ({@code spark.qsync.plan.outDir}). */
    public QSyncClassifier setPlanOutDir(String v) {
        return with(planOutDir, v);
    }

    /** Sets {@link #predictionCol()}. */
    public QSyncClassifier setPredictionCol(String v) {
        return with(predictionCol(), v);
    }

    /** Sets {@link #rawPredictionCol()} (empty: no such column). */
    public QSyncClassifier setRawPredictionCol(String v) {
        return with(rawPredictionCol(), v);
    }

    /** Sets {@link #probabilityCol()} (empty: no such column). */
    public QSyncClassifier setProbabilityCol(String v) {
        return with(probabilityCol(), v);
    }

    @Override
    public QSyncClassificationModel fit(Dataset<?> dataset) {
        if (!isDefined(modelJson)) {
            throw new IllegalArgumentException(
                    "QSyncClassifier: set modelJson to the network's DL4J JSON configuration");
        }
        @SuppressWarnings("unchecked")
        Dataset<Row> rows = (Dataset<Row>) dataset.toDF();
        TrainSettings settings = TrainSettings.from(settings(QSyncConf.from(rows.sparkSession())));
        transformSchema(dataset.schema(), settings.featuresCol(), settings.labelCol());
        TrainJob.Result r = TrainJob.train(
                rows.sparkSession(),
                rows,
                ModelSpec.fromJson(getModelJson()),
                settings,
                TrainOptions.none()
                        .withProgress(new LoggingProgress(settings.runtime().epochs())));
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try {
            ModelSerializer.writeModel(r.model(), bos, true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        QSyncClassificationModel m = new QSyncClassificationModel(
                uid(),
                new ModelSpec(
                        bos.toByteArray(), !(r.model() instanceof org.deeplearning4j.nn.multilayer.MultiLayerNetwork)),
                r.history());
        m.setFeaturesCol(settings.featuresCol())
                .setPredictionCol(getPredictionCol())
                .setRawPredictionCol(getRawPredictionCol())
                .setProbabilityCol(getProbabilityCol());
        m.setParent(this);
        return m;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        return transformSchema(schema, getFeaturesCol(), getLabelCol());
    }

    private StructType transformSchema(StructType schema, String features, String label) {
        MlSchemas.requireFeatures(schema, features);
        MlSchemas.requireIntegral(schema, label);
        return MlSchemas.withOutputs(schema, getRawPredictionCol(), getProbabilityCol(), getPredictionCol());
    }

    @Override
    public QSyncClassifier copy(ParamMap extra) {
        return (QSyncClassifier) defaultCopy(extra);
    }

    /** Reader for {@link #save}d classifiers. */
    public static MLReader<QSyncClassifier> read() {
        return new DefaultParamsReader<>();
    }

    /** Loads a classifier saved with {@code save(path)}. */
    public static QSyncClassifier load(String path) {
        return read().load(path);
    }
}
