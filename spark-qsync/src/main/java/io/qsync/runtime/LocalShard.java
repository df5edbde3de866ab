package io.qsync.runtime;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One worker's training rows in compact form: a row-major feature matrix and integer labels. Builds DL4J minibatches
 * (features {@code [b, numFeatures]}, one-hot labels {@code [b, numClasses]}) from any subset of its rows.
 */
public final class LocalShard implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  private final float[] features;
  private final int[] labels;
  private final int numFeatures;
  private final int count;

  /** Wraps existing arrays ({@code features.length == labels.length * numFeatures}). */
  public LocalShard(float[] features, int[] labels, int numFeatures) {
    if ((long) labels.length * numFeatures != features.length) {
      throw new IllegalArgumentException("LocalShard: " + labels.length + " labels and " + features.length
          + " feature values do not match numFeatures=" + numFeatures);
    }
    this.features = features;
    this.labels = labels;
    this.numFeatures = numFeatures;
    this.count = labels.length;
  }

  /**
   * Materializes rows with an {@code array<float>} (or {@code array<double>}) features column and an integer label.
   *
   * @throws IllegalArgumentException if a row's feature length differs from the first row's, or a label is outside
   *                                  {@code [0, numClasses)}
   */
  public static LocalShard fromRows(Iterator<Row> rows, String featuresCol, String labelCol, int numClasses) {
    float[] buf = new float[0];
    int[] lab = new int[0];
    int n = 0;
    int d = -1;
    int fi = -1;
    int li = -1;
    while (rows.hasNext()) {
      Row r = rows.next();
      if (fi < 0) {
        fi = r.fieldIndex(featuresCol);
        li = r.fieldIndex(labelCol);
      }
      List<Object> f = r.getList(fi);
      if (d < 0) {
        d = f.size();
        buf = new float[Math.max(1, d) * 1024];
        lab = new int[1024];
      } else if (f.size() != d) {
        throw new IllegalArgumentException("column '" + featuresCol + "': row " + n + " has " + f.size()
            + " features but the first row has " + d + "; all rows need the same length");
      }
      if (n == lab.length) {
        lab = Arrays.copyOf(lab, n * 2);
        buf = Arrays.copyOf(buf, n * 2 * d);
      }
      int base = n * d;
      for (int k = 0; k < d; k++) {
        buf[base + k] = ((Number) f.get(k)).floatValue();
      }
      int y = ((Number) r.get(li)).intValue();
      if (y < 0 || y >= numClasses) {
        throw new IllegalArgumentException("column '" + labelCol + "': label " + y + " outside [0, " + numClasses
            + "); set numClasses (spark.qsync.numClasses / --classes) to cover every label");
      }
      lab[n++] = y;
    }
    if (d < 0) {
      return new LocalShard(new float[0], new int[0], 0);
    }
    return new LocalShard(Arrays.copyOf(buf, n * d), Arrays.copyOf(lab, n), d);
  }

  /** Number of rows. */
  public int count() {
    return count;
  }

  /** Features per row. */
  public int numFeatures() {
    return numFeatures;
  }

  /** Label of row {@code i}. */
  public int label(int i) {
    return labels[i];
  }

  /**
   * A backend-neutral minibatch of rows {@code order[from..to)} (or rows {@code from..to} when {@code order} is
   * null), with one-hot labels over {@code numClasses}.
   */
  public HostBatch hostBatch(int[] order, int from, int to, int numClasses) {
    int b = to - from;
    float[] x = new float[b * numFeatures];
    float[] y = new float[b * numClasses];
    for (int j = 0; j < b; j++) {
      int row = order == null ? from + j : order[from + j];
      System.arraycopy(features, row * numFeatures, x, j * numFeatures, numFeatures);
      y[j * numClasses + labels[row]] = 1f;
    }
    return new HostBatch(b, numFeatures, x, numClasses, y);
  }

  /**
   * A DL4J minibatch of rows {@code order[from..to)} (or rows {@code from..to} when {@code order} is null).
   */
  public DataSet batch(int[] order, int from, int to, int numClasses) {
    HostBatch h = hostBatch(order, from, to, numClasses);
    INDArray xf = Nd4j.create(h.features(), new long[] {h.rows(), numFeatures}, 'c');
    INDArray yf = Nd4j.create(h.targets(), new long[] {h.rows(), numClasses}, 'c');
    return new DataSet(xf, yf);
  }
}
