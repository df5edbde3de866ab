package io.qsync.spark.ml;

import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.TrainingHistory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import scala.Option;

/**
 * The model {@link QSyncClassifier#fit} returns: a trained DL4J network that appends a {@code prediction} column
 * (the arg-max class, as a double) to rows with a features column. Saved with {@code write().save(path)} (Spark ML
 * metadata plus the DL4J model zip) and restored with {@link #load}.
 */
public final class QSyncClassificationModel extends Model<QSyncClassificationModel> implements MLWritable {
  private static final long serialVersionUID = 1L;
  private static final String MODEL_FILE = "dl4j-model.zip";
  private final String uid;
  private final ModelSpec spec;
  private final transient TrainingHistory history;
  private final Param<String> featuresCol;
  private final Param<String> predictionCol;

  QSyncClassificationModel(String uid, ModelSpec spec, TrainingHistory history) {
    this.uid = uid;
    this.spec = spec;
    this.history = history;
    featuresCol = new Param<>(this, "featuresCol", "features column (array<float>)");
    predictionCol = new Param<>(this, "predictionCol", "prediction column");
    setDefault(featuresCol, "features");
    setDefault(predictionCol, "prediction");
  }

  @Override
  public String uid() {
    return uid;
  }

  /** Features column. */
  public Param<String> featuresCol() {
    return featuresCol;
  }

  /** Prediction column. */
  public Param<String> predictionCol() {
    return predictionCol;
  }

  /** Sets {@link #featuresCol()}. */
  public QSyncClassificationModel setFeaturesCol(String v) {
    set(featuresCol, v);
    return this;
  }

  /** Sets {@link #predictionCol()}. */
  public QSyncClassificationModel setPredictionCol(String v) {
    set(predictionCol, v);
    return this;
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
    MlSchemas.requireFeatures(schema, getOrDefault(featuresCol));
    return MlSchemas.withPrediction(schema, getOrDefault(predictionCol));
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType out = transformSchema(dataset.schema());
    Dataset<Row> df = dataset.toDF();
    int fi = df.schema().fieldIndex(getOrDefault(featuresCol));
    // the model travels as plain bytes: Spark's Kryo 4 cannot serialize records
    Broadcast<byte[]> zip = JavaSparkContext.fromSparkContext(df.sparkSession().sparkContext())
        .broadcast(spec.modelZip());
    boolean graph = spec.graph();
    return df.mapPartitions((MapPartitionsFunction<Row, Row>) rows -> predict(rows, new ModelSpec(zip.value(), graph),
        fi), Encoders.row(out));
  }

  private static Iterator<Row> predict(Iterator<Row> rows, ModelSpec spec, int fi) {
    org.deeplearning4j.nn.api.Model net = spec.restore();
    List<Row> out = new ArrayList<>();
    List<Row> batch = new ArrayList<>();
    while (rows.hasNext()) {
      batch.add(rows.next());
      if (batch.size() == 256 || !rows.hasNext()) {
        int d = batch.get(0).getList(fi).size();
        float[] x = new float[batch.size() * d];
        for (int i = 0; i < batch.size(); i++) {
          List<Object> f = batch.get(i).getList(fi);
          for (int k = 0; k < d; k++) {
            x[i * d + k] = ((Number) f.get(k)).floatValue();
          }
        }
        INDArray in = Nd4j.create(x, new long[] {batch.size(), d}, 'c');
        INDArray probs = net instanceof MultiLayerNetwork m ? m.output(in, false)
            : ((ComputationGraph) net).outputSingle(false, in);
        INDArray pred = Nd4j.argMax(probs, 1);
        for (int i = 0; i < batch.size(); i++) {
          Row r = batch.get(i);
          Object[] vals = new Object[r.length() + 1];
          for (int c = 0; c < r.length(); c++) {
            vals[c] = r.get(c);
          }
          vals[r.length()] = (double) pred.getInt(i);
          out.add(RowFactory.create(vals));
        }
        batch.clear();
      }
    }
    return out.iterator();
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
      DefaultParamsWriter$.MODULE$.saveMetadata(model, path, sparkSession());
      Path p = new Path(path, MODEL_FILE + (model.spec.graph() ? ".graph" : ""));
      try (OutputStream os = p.getFileSystem(sparkSession().sparkContext().hadoopConfiguration()).create(p)) {
        os.write(model.spec.modelZip());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + p, e);
      }
    }
  }

  private static final class Reader extends MLReader<QSyncClassificationModel> {
    @Override
    public QSyncClassificationModel load(String path) {
      DefaultParamsReader.Metadata meta = DefaultParamsReader$.MODULE$.loadMetadata(path, sparkSession(),
          QSyncClassificationModel.class.getName());
      try {
        FileSystem fs = new Path(path).getFileSystem(sparkSession().sparkContext().hadoopConfiguration());
        boolean graph = fs.exists(new Path(path, MODEL_FILE + ".graph"));
        Path p = new Path(path, MODEL_FILE + (graph ? ".graph" : ""));
        byte[] bytes;
        try (InputStream in = fs.open(p)) {
          bytes = in.readAllBytes();
        }
        QSyncClassificationModel m = new QSyncClassificationModel(meta.uid(), new ModelSpec(bytes, graph), null);
        meta.getAndSetParams(m, Option.empty());
        return m;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the model saved under " + path, e);
      }
    }
  }
}
