package io.qsync.spark;

import io.qsync.runtime.LocalShard;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Row;

/** Turns a barrier task's Spark rows into the runtime's {@link LocalShard} (the runtime itself knows no Spark). */
final class RowShards {
  private RowShards() {}

  /**
   * Materializes rows with an {@code array<float>} (or {@code array<double>}) features column and an integer label.
   *
   * @throws IllegalArgumentException if a row's feature length differs from the first row's, or a label is outside
   *                                  {@code [0, numClasses)}
   */
  static LocalShard fromRows(Iterator<Row> rows, String featuresCol, String labelCol, int numClasses) {
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

}
