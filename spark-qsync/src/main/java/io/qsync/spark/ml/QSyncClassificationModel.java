package io.qsync.spark.ml;

import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.TrainingHistory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * The model {@link QSyncClassifier#fit} returns: a trained DL4J network that appends, like Spark ML's probabilistic
 * classifiers, a {@code rawPrediction} vector (log-probabilities), a {@code probability} vector and a
 * {@code prediction} (the arg-max class, as a double) to rows with a features column. Saved with {@code write().save(path)} (Spark ML
 * metadata plus the DL4J model zip) and restored with {@link #load}.
 */
public final class QSyncClassificationModel extends Model<QSyncClassificationModel>
        implements MLWritable, HasOutputCols {
    private static final long serialVersionUID = 1L;
    private static final String MODEL_FILE = "dl4j-model.zip";
    private final String uid;
    private final ModelSpec spec;
    private final transient TrainingHistory history;
    private final Param<String> featuresCol;
    private final OutputCols outputCols;

    QSyncClassificationModel(String uid, ModelSpec spec, TrainingHistory history) {
        this.uid = uid;
        this.spec = spec;
        this.history = history;
        featuresCol = new Param<>(this, "featuresCol", "features column: array<float>, array<double> or Vector");
        setDefault(featuresCol, "features");
        outputCols = new OutputCols(this);
    }

    @Override
    public String uid() {
        return uid;
    }

    /** Features column. */
    public Param<String> featuresCol() {
        return featuresCol;
    }

    /** The value of {@link #featuresCol()}. */
    public String getFeaturesCol() {
        return $(featuresCol);
    }

    /** Sets {@link #featuresCol()}. */
    public QSyncClassificationModel setFeaturesCol(String v) {
        set(featuresCol, v);
        return this;
    }

    /** Sets {@link #predictionCol()}. */
    public QSyncClassificationModel setPredictionCol(String v) {
        set(predictionCol(), v);
        return this;
    }

    /** Sets {@link #rawPredictionCol()}. */
    public QSyncClassificationModel setRawPredictionCol(String v) {
        set(rawPredictionCol(), v);
        return this;
    }

    /** Sets {@link #probabilityCol()}. */
    public QSyncClassificationModel setProbabilityCol(String v) {
        set(probabilityCol(), v);
        return this;
    }

    @Override
    public OutputCols outputCols() {
        return outputCols;
    }

    @Override
    public String explainParams() {
        return MlParams.explain(this);
    }

    /** The trained DL4J network (a fresh copy). */
    public org.deeplearning4j.nn.api.Model network() {
        return spec.restore();
    }

    /** The training history, or null for a model loaded from disk. */
    public TrainingHistory history() {
        return history;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        MlSchemas.requireFeatures(schema, getFeaturesCol());
        return MlSchemas.withOutputs(schema, getRawPredictionCol(), getProbabilityCol(), getPredictionCol());
    }

    /** Appends the output columns; lazy, like every Spark transformation (rows are scored in batches when read). */
    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        Dataset<Row> df = dataset.toDF();
        int fi = df.schema().fieldIndex(getFeaturesCol());
        // the model travels as plain bytes in the task closure (Spark's Kryo 4 cannot serialize records): Spark ships
        // it
        // in the task binary, whose broadcast its ContextCleaner removes, so no broadcast of ours outlives the job
        byte[] zip = spec.modelZip();
        boolean graph = spec.graph();
        boolean raw = !getRawPredictionCol().isEmpty();
        boolean prob = !getProbabilityCol().isEmpty();
        JavaRDD<Row> scored = df.javaRDD().mapPartitions((FlatMapFunction<Iterator<Row>, Row>)
                rows -> new BatchPredictions(rows, new ModelSpec(zip, graph).restore(), fi, raw, prob));
        return df.sparkSession().createDataFrame(scored, out);
    }

    @Override
    public QSyncClassificationModel copy(ParamMap extra) {
        QSyncClassificationModel m = new QSyncClassificationModel(uid, spec, history);
        copyValues(m, extra);
        return m.setParent(parent());
    }

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    /** Reader for saved models. */
    public static MLReader<QSyncClassificationModel> read() {
        return new Reader();
    }

    /** Loads a model saved with {@code write().save(path)}. */
    public static QSyncClassificationModel load(String path) {
        return read().load(path);
    }

    private static final class Writer extends MLWriter {
        private final QSyncClassificationModel model;

        Writer(QSyncClassificationModel model) {
            this.model = model;
        }

        @Override
        public void saveImpl(String path) {
            ModelMetadata.save(model, path, sparkSession());
            Path p = new Path(path, MODEL_FILE + (model.spec.graph() ? ".graph" : ""));
            try (OutputStream os = p.getFileSystem(sparkSession().sparkContext().hadoopConfiguration())
                    .create(p)) {
                os.write(model.spec.modelZip());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + p, e);
            }
        }
    }

    private static final class Reader extends MLReader<QSyncClassificationModel> {
        @Override
        public QSyncClassificationModel load(String path) {
            String uid = ModelMetadata.uid(path, sparkSession(), QSyncClassificationModel.class);
            try {
                FileSystem fs = new Path(path)
                        .getFileSystem(sparkSession().sparkContext().hadoopConfiguration());
                boolean graph = fs.exists(new Path(path, MODEL_FILE + ".graph"));
                Path p = new Path(path, MODEL_FILE + (graph ? ".graph" : ""));
                byte[] bytes;
                try (InputStream in = fs.open(p)) {
                    bytes = in.readAllBytes();
                }
                QSyncClassificationModel m = new QSyncClassificationModel(uid, new ModelSpec(bytes, graph), null);
                ModelMetadata.setParams(m, path, sparkSession());
                return m;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the model saved under " + path, e);
            }
        }
    }
}
