package io.qsync.spark;

import io.qsync.runtime.LocalShard;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;

/**
 * Materializes one worker's partition as a {@link LocalShard}: features from an {@code array<float>},
 * {@code array<double>} or Spark ML {@code Vector} column, integer labels. Rows are copied into blocks of 1024 as
 * they stream in, so the peak heap is about twice the shard's float matrix, never a boxed copy of the partition.
 */
public final class RowShards {
    private static final int BLOCK = 1024;

    private RowShards() {}

    /**
     * Reads every row.
     *
     * @throws IllegalArgumentException if a row's feature length differs from the first row's, or a label is outside
     *                                  {@code [0, numClasses)}
     */
    public static LocalShard read(Iterator<Row> rows, String featuresCol, String labelCol, int numClasses) {
        List<float[]> blocks = new ArrayList<>();
        List<int[]> labelBlocks = new ArrayList<>();
        int n = 0;
        int d = -1;
        int fi = -1;
        int li = -1;
        float[] block = null;
        int[] labels = null;
        while (rows.hasNext()) {
            Row r = rows.next();
            if (fi < 0) {
                fi = r.fieldIndex(featuresCol);
                li = r.fieldIndex(labelCol);
            }
            Object f = r.get(fi);
            int len = length(f);
            if (d < 0) {
                d = len;
            } else if (len != d) {
                throw new IllegalArgumentException("column '" + featuresCol + "': row " + n + " has " + len
                        + " features but the first row has " + d + "; all rows need the same length");
            }
            int slot = n % BLOCK;
            if (slot == 0) {
                block = new float[BLOCK * d];
                labels = new int[BLOCK];
                blocks.add(block);
                labelBlocks.add(labels);
            }
            copy(f, block, slot * d);
            int y = ((Number) r.get(li)).intValue();
            if (y < 0 || y >= numClasses) {
                throw new IllegalArgumentException("column '" + labelCol + "': label " + y + " outside [0, "
                        + numClasses + "); set numClasses (spark.qsync.numClasses) to cover every label");
            }
            labels[slot] = y;
            n++;
        }
        if (d < 0) {
            return new LocalShard(new float[0], new int[0], 0);
        }
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int b = 0; b < blocks.size(); b++) {
            int rowsHere = Math.min(BLOCK, n - b * BLOCK);
            System.arraycopy(blocks.get(b), 0, x, b * BLOCK * d, rowsHere * d);
            System.arraycopy(labelBlocks.get(b), 0, y, b * BLOCK, rowsHere);
            blocks.set(b, null);
        }
        return new LocalShard(x, y, d);
    }

    /** Number of features of one cell (a Spark ML vector, a Scala/Java sequence, or a primitive array). */
    public static int length(Object f) {
        if (f instanceof Vector v) {
            return v.size();
        } else if (f instanceof scala.collection.Seq<?> s) {
            return s.length();
        } else if (f instanceof List<?> l) {
            return l.size();
        } else if (f instanceof float[] a) {
            return a.length;
        } else if (f instanceof double[] a) {
            return a.length;
        }
        throw new IllegalArgumentException(
                "features cell of type " + (f == null ? "null" : f.getClass().getName())
                        + " is not an array<float>, array<double> or Vector; set the features column (spark.qsync.featuresCol)");
    }

    /** Copies one features cell into {@code out} at {@code offset} as floats. */
    public static void copy(Object f, float[] out, int offset) {
        if (f instanceof Vector v) {
            copy(v.toArray(), out, offset);
        } else if (f instanceof scala.collection.Seq<?> s) {
            int k = 0;
            for (scala.collection.Iterator<?> it = s.iterator(); it.hasNext(); k++) {
                out[offset + k] = ((Number) it.next()).floatValue();
            }
        } else if (f instanceof List<?> l) {
            for (int k = 0; k < l.size(); k++) {
                out[offset + k] = ((Number) l.get(k)).floatValue();
            }
        } else if (f instanceof float[] a) {
            System.arraycopy(a, 0, out, offset, a.length);
        } else {
            double[] a = (double[]) f;
            for (int k = 0; k < a.length; k++) {
                out[offset + k] = (float) a[k];
            }
        }
    }
}
