package io.qsync.spark.ml;

import io.qsync.runtime.ModelSpec;
import io.qsync.spark.TrainJob;
import io.qsync.spark.TrainOptions;
import io.qsync.spark.TrainSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
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
 * data-parallel workers in one Spark barrier stage. Input: an {@code array<float>} (or {@code array<double>})
 * features column and an integer label column. {@link #fit} returns a {@link QSyncClassificationModel}.
 *
 * <pre>{@code
 * QSyncClassifier clf = new QSyncClassifier().setModelJson(conf.toJson()).setNumWorkers(2).setEpochs(3);
 * QSyncClassificationModel m = clf.fit(train);
 * m.transform(test).select("prediction").show();
 * }</pre>
 */
public final class QSyncClassifier extends Estimator<QSyncClassificationModel> implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;
  private final String uid;
  private final Param<String> modelJson;
  private final IntParam numWorkers;
  private final IntParam epochs;
  private final IntParam batchSize;
  private final IntParam numClasses;
  private final LongParam seed;
  private final BooleanParam shuffle;
  private final Param<String> featuresCol;
  private final Param<String> labelCol;
  private final Param<String> predictionCol;
  private final Param<String> planFile;
  private final Param<String> planDevices;
  private final Param<String> checkpointDir;
  private final BooleanParam resume;

  /** A classifier with a random uid. */
  public QSyncClassifier() {
    this(Identifiable$.MODULE$.randomUID("qsyncClassifier"));
  }

  /** A classifier with the given uid (used by persistence and {@link #copy}). */
  public QSyncClassifier(String uid) {
    this.uid = uid;
    modelJson = new Param<>(this, "modelJson", "DL4J MultiLayerConfiguration or ComputationGraphConfiguration JSON");
    numWorkers = new IntParam(this, "numWorkers", "synchronous workers (spark.qsync.numWorkers)",
        ParamValidators.gtEq(1));
    epochs = new IntParam(this, "epochs", "passes over the data (spark.qsync.epochs)", ParamValidators.gtEq(1));
    batchSize = new IntParam(this, "batchSize", "global batch size (spark.qsync.batchSize)", ParamValidators.gtEq(1));
    numClasses = new IntParam(this, "numClasses", "labels are in [0, numClasses)", ParamValidators.gtEq(2));
    seed = new LongParam(this, "seed", "seed of the per-epoch shuffles");
    shuffle = new BooleanParam(this, "shuffle", "shuffle each worker's rows every epoch");
    featuresCol = new Param<>(this, "featuresCol", "features column (array<float>)");
    labelCol = new Param<>(this, "labelCol", "label column (integer)");
    predictionCol = new Param<>(this, "predictionCol", "prediction column written by the model");
    planFile = new Param<>(this, "planFile", "cluster plan JSON from `qsync plan` (spark.qsync.plan.file); "
        + "empty: FP32 everywhere");
    planDevices = new Param<>(this, "planDevices", "device type of each worker by rank, comma-separated "
        + "(spark.qsync.plan.devices)");
    setDefault(numWorkers, 2);
    setDefault(epochs, 1);
    setDefault(batchSize, 128);
    setDefault(numClasses, 10);
    setDefault(seed, 42L);
    setDefault(shuffle, true);
    setDefault(featuresCol, "features");
    setDefault(labelCol, "label");
    setDefault(predictionCol, "prediction");
    setDefault(planFile, "");
    setDefault(planDevices, "");
    checkpointDir = new Param<>(this, "checkpointDir", "checkpoint directory, any Hadoop file system "
        + "(spark.qsync.checkpoint.dir); a retried stage resumes from its newest checkpoint; empty: none");
    resume = new BooleanParam(this, "resume", "continue the stopped fit whose checkpoints are in checkpointDir "
        + "(spark.qsync.checkpoint.resume)");
    setDefault(checkpointDir, "");
    setDefault(resume, false);
  }

  @Override
  public String uid() {
    return uid;
  }

  /** The network's JSON configuration. */
  public Param<String> modelJson() {
    return modelJson;
  }

  /** Number of workers. */
  public IntParam numWorkers() {
    return numWorkers;
  }

  /** Number of epochs. */
  public IntParam epochs() {
    return epochs;
  }

  /** Global batch size. */
  public IntParam batchSize() {
    return batchSize;
  }

  /** Number of classes. */
  public IntParam numClasses() {
    return numClasses;
  }

  /** Shuffle seed. */
  public LongParam seed() {
    return seed;
  }

  /** Whether to shuffle. */
  public BooleanParam shuffle() {
    return shuffle;
  }

  /** Features column. */
  public Param<String> featuresCol() {
    return featuresCol;
  }

  /** Label column. */
  public Param<String> labelCol() {
    return labelCol;
  }

  /** Cluster plan file. */
  public Param<String> planFile() {
    return planFile;
  }

  /** Device type of each worker. */
  public Param<String> planDevices() {
    return planDevices;
  }

  /** Prediction column. */
  public Param<String> predictionCol() {
    return predictionCol;
  }

  /** Sets {@link #modelJson()}. */
  public QSyncClassifier setModelJson(String v) {
    set(modelJson, v);
    return this;
  }

  /** Sets {@link #numWorkers()}. */
  public QSyncClassifier setNumWorkers(int v) {
    set(numWorkers, v);
    return this;
  }

  /** Sets {@link #epochs()}. */
  public QSyncClassifier setEpochs(int v) {
    set(epochs, v);
    return this;
  }

  /** Sets {@link #batchSize()}. */
  public QSyncClassifier setBatchSize(int v) {
    set(batchSize, v);
    return this;
  }

  /** Sets {@link #numClasses()}. */
  public QSyncClassifier setNumClasses(int v) {
    set(numClasses, v);
    return this;
  }

  /** Sets {@link #seed()}. */
  public QSyncClassifier setSeed(long v) {
    set(seed, v);
    return this;
  }

  /** Sets {@link #shuffle()}. */
  public QSyncClassifier setShuffle(boolean v) {
    set(shuffle, v);
    return this;
  }

  /** Sets {@link #featuresCol()}. */
  public QSyncClassifier setFeaturesCol(String v) {
    set(featuresCol, v);
    return this;
  }

  /** Sets {@link #labelCol()}. */
  public QSyncClassifier setLabelCol(String v) {
    set(labelCol, v);
    return this;
  }

  /** Sets {@link #predictionCol()}. */
  public QSyncClassifier setPredictionCol(String v) {
    set(predictionCol, v);
    return this;
  }

  /** Trains with a cluster plan from {@code qsync plan} (spark.qsync.plan.file). */
  public QSyncClassifier setPlanFile(String v) {
    set(planFile, v);
    return this;
  }

  /** Device type of each worker by rank, comma-separated, e.g. {@code V100,T4} (spark.qsync.plan.devices). */
  /** Param: checkpoint directory. */
  public Param<String> checkpointDir() {
    return checkpointDir;
  }

  /** Param: continue a stopped fit. */
  public BooleanParam resume() {
    return resume;
  }

  /** Checkpoint directory ({@code spark.qsync.checkpoint.dir}); empty: no checkpoints. */
  public QSyncClassifier setCheckpointDir(String v) {
    set(checkpointDir, v);
    return this;
  }

  /** Continue a stopped fit from the newest checkpoint in the checkpoint directory. */
  public QSyncClassifier setResume(boolean v) {
    set(resume, v);
    return this;
  }

  public QSyncClassifier setPlanDevices(String v) {
    set(planDevices, v);
    return this;
  }

  @Override
  public QSyncClassificationModel fit(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    if (!isDefined(modelJson)) {
      throw new IllegalArgumentException("QSyncClassifier: set modelJson to the network's DL4J JSON configuration");
    }
    Map<String, String> s = new HashMap<>();
    s.put("spark.qsync.numWorkers", Integer.toString((Integer) getOrDefault(numWorkers)));
    s.put("spark.qsync.epochs", Integer.toString((Integer) getOrDefault(epochs)));
    s.put("spark.qsync.batchSize", Integer.toString((Integer) getOrDefault(batchSize)));
    s.put("spark.qsync.numClasses", Integer.toString((Integer) getOrDefault(numClasses)));
    s.put("spark.qsync.seed", Long.toString((Long) getOrDefault(seed)));
    s.put("spark.qsync.shuffle", Boolean.toString((Boolean) getOrDefault(shuffle)));
    s.put("spark.qsync.featuresCol", getOrDefault(featuresCol));
    s.put("spark.qsync.labelCol", getOrDefault(labelCol));
    s.put("spark.qsync.progress", "false");
    if (!getOrDefault(planFile).isEmpty() || !getOrDefault(planDevices).isEmpty()) {
      s.put("spark.qsync.plan.file", getOrDefault(planFile));
      s.put("spark.qsync.plan.devices", getOrDefault(planDevices));
    }
    s.put("spark.qsync.checkpoint.dir", getOrDefault(checkpointDir));
    s.put("spark.qsync.checkpoint.resume", Boolean.toString((Boolean) getOrDefault(resume)));
    TrainSettings settings = TrainSettings.from(s);
    @SuppressWarnings("unchecked")
    Dataset<Row> rows = (Dataset<Row>) dataset.toDF();
    TrainJob.Result r = TrainJob.train(rows.sparkSession(), rows, ModelSpec.fromJson(getOrDefault(modelJson)),
        settings, TrainOptions.none());
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try {
      ModelSerializer.writeModel(r.model(), bos, true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    QSyncClassificationModel m = new QSyncClassificationModel(uid, new ModelSpec(bos.toByteArray(),
        !(r.model() instanceof org.deeplearning4j.nn.multilayer.MultiLayerNetwork)), r.history());
    m.setFeaturesCol(getOrDefault(featuresCol)).setPredictionCol(getOrDefault(predictionCol));
    m.setParent(this);
    return m;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    MlSchemas.requireFeatures(schema, getOrDefault(featuresCol));
    MlSchemas.requireIntegral(schema, getOrDefault(labelCol));
    return MlSchemas.withPrediction(schema, getOrDefault(predictionCol));
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
