package io.qsync.data;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Turns {@link LabeledImages} into a Spark {@code Dataset<Row>} with columns {@code features: array<float>} (pixels
 * scaled to [0, 1]) and {@code label: int}. The driver ships compact byte chunks (one byte per pixel); executors
 * turn them into rows one at a time, each row's features a primitive {@code float[]} (stored unboxed by Spark), so
 * neither side ever holds a partition of boxed values.
 */
public final class ImageFrames {

    /** Default name of the features column. */
    public static final String FEATURES = "features";
    /** Default name of the label column. */
    public static final String LABEL = "label";
    /** Schema of the frames this class creates. */
    public static final StructType SCHEMA = new StructType()
            .add(FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false), false)
            .add(LABEL, DataTypes.IntegerType, false);

    private ImageFrames() {}

    /**
     * Creates a frame of {@code images} in {@code numPartitions} contiguous, near-equal partitions (order kept).
     */
    public static Dataset<Row> toFrame(SparkSession spark, LabeledImages images, int numPartitions) {
        if (numPartitions < 1) {
            throw new IllegalArgumentException("numPartitions must be >= 1, got " + numPartitions);
        }
        int n = images.count();
        // chunks travel as plain byte arrays: Spark's Kryo 4 cannot serialize records
        List<byte[]> chunks = new ArrayList<>();
        for (int p = 0; p < numPartitions; p++) {
            int from = (int) ((long) p * n / numPartitions);
            int to = (int) ((long) (p + 1) * n / numPartitions);
            chunks.add(encode(images.slice(from, to)));
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JavaRDD<Row> rows = jsc.parallelize(chunks, numPartitions).mapPartitions(ImageFrames::expand);
        return spark.createDataFrame(rows, SCHEMA);
    }

    private static byte[] encode(LabeledImages c) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + c.pixels().length + c.labels().length);
        b.putInt(c.rows()).putInt(c.cols()).put(c.pixels()).put(c.labels());
        return b.array();
    }

    private static LabeledImages decode(byte[] bytes) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
        int rows = b.getInt();
        int cols = b.getInt();
        int n = (bytes.length - 8) / (rows * cols + 1);
        byte[] pixels = new byte[n * rows * cols];
        byte[] labels = new byte[n];
        b.get(pixels).get(labels);
        return new LabeledImages(rows, cols, pixels, labels);
    }

    /** Rows of one chunk after another, made one at a time: a partition never exists as a list of rows. */
    private static Iterator<Row> expand(Iterator<byte[]> chunks) {
        return new Iterator<>() {
            private LabeledImages chunk;
            private int next;

            @Override
            public boolean hasNext() {
                while ((chunk == null || next == chunk.count()) && chunks.hasNext()) {
                    chunk = decode(chunks.next());
                    next = 0;
                }
                return chunk != null && next < chunk.count();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                int i = next++;
                return RowFactory.create(chunk.features(i), chunk.label(i));
            }
        };
    }
}
