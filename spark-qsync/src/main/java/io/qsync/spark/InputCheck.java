package io.qsync.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * Checks the training input once, on the driver, before the barrier stage starts: the schema of the features and
 * label columns, then every row in one pass (nulls, non-finite features, feature length, label type and range). A
 * problem never reaches the barrier stage, where it would fail every attempt alike. Rows are numbered in the order of
 * the input {@code Dataset} (0-based, over all partitions), so the message points at the row to fix. An input that
 * cannot be read (a damaged file) fails this pass with the reader's error instead of training on part of it.
 */
final class InputCheck {
    private InputCheck() {}

    /** Row counts per input partition, in order, of a data set that passed the check. */
    record Counts(long[] perPartition) {
        long total() {
            long t = 0;
            for (long c : perPartition) {
                t += c;
            }
            return t;
        }
    }

    /** What one partition's scan found: its row count and first problem (local row), and how many rows are bad. */
    record PartitionScan(int partition, long rows, long problemRow, String problem, long badRows) {
        /** As plain values (Spark's Kryo cannot serialize records). */
        Object[] toArray() {
            return new Object[] {partition, rows, problemRow, problem, badRows};
        }

        static PartitionScan of(Object[] a) {
            return new PartitionScan((Integer) a[0], (Long) a[1], (Long) a[2], (String) a[3], (Long) a[4]);
        }
    }

    /**
     * Checks the schema and every row of {@code data}.
     *
     * @throws IllegalArgumentException naming the column, the global row and the fix
     */
    static Counts check(Dataset<Row> data, String featuresCol, String labelCol, int numClasses) {
        checkSchema(data, featuresCol, labelCol);
        int fi = data.schema().fieldIndex(featuresCol);
        int li = data.schema().fieldIndex(labelCol);
        int expect = firstLength(data, featuresCol);
        List<PartitionScan> scans;
        try {
            scans = new ArrayList<>(data
                    .toJavaRDD()
                    .mapPartitionsWithIndex(
                            (index, rows) -> java.util.Collections.singletonList(
                                            scan(index, rows, fi, li, featuresCol, labelCol, numClasses, expect)
                                                    .toArray())
                                    .iterator(),
                            false)
                    .collect()
                    .stream()
                    .map(PartitionScan::of)
                    .toList());
        } catch (Exception e) { // SparkException (checked in Scala's eyes) or a reader's runtime error
            throw new IllegalArgumentException(
                    "cannot read the training data (a damaged or unreadable input file?); "
                            + "nothing was trained. Fix or replace the input: " + rootMessage(e),
                    e);
        }
        scans.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
        long[] counts = new long[scans.size()];
        long offset = 0;
        long bad = scans.stream().mapToLong(PartitionScan::badRows).sum();
        for (PartitionScan p : scans) {
            counts[p.partition()] = p.rows();
            if (p.problem() != null) {
                throw new IllegalArgumentException(p.problem().replace("{row}", "row " + (offset + p.problemRow()))
                        + (bad > 1 ? " (" + bad + " rows have problems in all)" : ""));
            }
            offset += p.rows();
        }
        if (offset == 0) {
            throw new IllegalArgumentException("the training data has no rows; check the input path or filter");
        }
        return new Counts(counts);
    }

    private static void checkSchema(Dataset<Row> data, String featuresCol, String labelCol) {
        StructField f = data.schema().apply(featuresCol);
        DataType ft = f.dataType();
        boolean array = ft instanceof ArrayType a
                && (a.elementType().equals(DataTypes.FloatType)
                        || a.elementType().equals(DataTypes.DoubleType));
        if (!array && !(ft instanceof org.apache.spark.ml.linalg.VectorUDT)) {
            throw new IllegalArgumentException(
                    "column '" + featuresCol + "' has type " + ft.simpleString() + " but must be "
                            + "array<float>, array<double> or a Spark ML Vector; convert it or point spark.qsync.featuresCol at the "
                            + "features column");
        }
        DataType lt = data.schema().apply(labelCol).dataType();
        if (!(lt.equals(DataTypes.IntegerType)
                || lt.equals(DataTypes.LongType)
                || lt.equals(DataTypes.ShortType)
                || lt.equals(DataTypes.ByteType)
                || lt.equals(DataTypes.DoubleType)
                || lt.equals(DataTypes.FloatType))) {
            throw new IllegalArgumentException(
                    "column '" + labelCol + "' has type " + lt.simpleString() + " but must be "
                            + "numeric class indices 0, 1, ... (int, long or a double holding whole numbers); index string labels "
                            + "with StringIndexer or point spark.qsync.labelCol at the label column");
        }
    }

    /** Scans one partition; never throws for bad data (so Spark does not retry it), only for unreadable input. */
    static PartitionScan scan(
            int index,
            Iterator<Row> rows,
            int fi,
            int li,
            String featuresCol,
            String labelCol,
            int numClasses,
            int length) {
        long n = 0;
        long problemRow = -1;
        String problem = null;
        long bad = 0;
        while (rows.hasNext()) {
            Row r = rows.next();
            String p = rowProblem(r, fi, li, featuresCol, labelCol, numClasses, length);
            if (p != null) {
                bad++;
                if (problem == null) {
                    problem = p;
                    problemRow = n;
                }
            }
            n++;
        }
        return new PartitionScan(index, n, problemRow, problem, bad);
    }

    private static String rowProblem(
            Row r, int fi, int li, String featuresCol, String labelCol, int numClasses, int length) {
        String fc = "column '" + featuresCol + "': {row}";
        if (r.isNullAt(fi)) {
            return fc + " is null; drop or fill rows with missing features (e.g. df.na.drop())";
        }
        List<?> f = features(r, fi);
        if (f.isEmpty()) {
            return fc + " has no features; drop empty rows";
        }
        if (length >= 0 && f.size() != length) {
            return fc + " has " + f.size() + " features but the first row with features has " + length + "; every row "
                    + "needs the same number of features (pad, truncate or drop the odd rows)";
        }
        for (int k = 0; k < f.size(); k++) {
            Object v = f.get(k);
            if (v == null) {
                return fc + " has a null at element " + k + "; fill or drop rows with missing values";
            }
            double d = ((Number) v).doubleValue();
            if (!Double.isFinite(d)) {
                return fc + " has " + d + " at element " + k + "; remove or impute non-finite values before training";
            }
        }
        String lc = "column '" + labelCol + "': {row}";
        if (r.isNullAt(li)) {
            return lc + " has a null label; drop unlabelled rows (e.g. df.na.drop())";
        }
        double y = ((Number) r.get(li)).doubleValue();
        if (y != Math.rint(y) || !Double.isFinite(y)) {
            return lc + " has label " + y + ", which is not a class index (a whole number); labels must be 0, 1, ..., "
                    + "numClasses - 1 (index them with StringIndexer)";
        }
        if (y < 0 || y >= numClasses) {
            return lc + " has label " + (long) y + " outside [0, " + numClasses + "); set spark.qsync.numClasses "
                    + "(--classes, setNumClasses) to cover every label, or fix the label";
        }
        return null;
    }

    /** Feature count of the data set's first row with features (-1 if none). */
    private static int firstLength(Dataset<Row> data, String featuresCol) {
        try {
            Row[] first = (Row[]) data.select(featuresCol)
                    .where(data.col(featuresCol).isNotNull())
                    .head(1);
            return first.length == 0 ? -1 : features(first[0], 0).size();
        } catch (Exception e) { // SparkException is checked in Java's eyes
            return -1; // unreadable input: the full pass reports it
        }
    }

    /** The features of a row as a list: an array column's elements or a Spark ML Vector's values. */
    private static List<?> features(Row r, int fi) {
        Object f = r.get(fi);
        if (f instanceof org.apache.spark.ml.linalg.Vector v) {
            return java.util.Arrays.stream(v.toArray()).boxed().toList();
        }
        return r.getList(fi);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage() == null ? t.toString() : t.getMessage();
        if (e instanceof SparkException && t == e) {
            return firstLine(m);
        }
        return t.getClass().getSimpleName() + ": " + firstLine(m);
    }

    private static String firstLine(String s) {
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }
}
