package io.qsync.spark.ml;

import java.util.Arrays;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Schema checks shared by the estimator and the model; messages name the column and the param to set. */
final class MlSchemas {
    private MlSchemas() {}

    static void requireFeatures(StructType schema, String col) {
        DataType t = typeOf(schema, col, "featuresCol");
        boolean array = t instanceof ArrayType a
                && (a.elementType().equals(DataTypes.FloatType)
                        || a.elementType().equals(DataTypes.DoubleType));
        if (!array && !t.equals(SQLDataTypes.VectorType())) {
            throw new IllegalArgumentException("column '" + col
                    + "' must be array<float>, array<double> or vector, got " + t.simpleString() + "; set featuresCol");
        }
    }

    static void requireIntegral(StructType schema, String col) {
        DataType t = typeOf(schema, col, "labelCol");
        if (!(t.equals(DataTypes.IntegerType)
                || t.equals(DataTypes.LongType)
                || t.equals(DataTypes.ShortType)
                || t.equals(DataTypes.ByteType)
                || t.equals(DataTypes.DoubleType))) {
            throw new IllegalArgumentException(
                    "column '" + col + "' must hold integer labels, got " + t.simpleString() + "; set labelCol");
        }
    }

    /** Appends the raw prediction and probability vectors (unless their names are empty) and the prediction. */
    static StructType withOutputs(StructType schema, String raw, String probability, String prediction) {
        StructType out = schema;
        if (!raw.isEmpty()) {
            out = add(out, raw, SQLDataTypes.VectorType(), "rawPredictionCol");
        }
        if (!probability.isEmpty()) {
            out = add(out, probability, SQLDataTypes.VectorType(), "probabilityCol");
        }
        return add(out, prediction, DataTypes.DoubleType, "predictionCol");
    }

    private static StructType add(StructType schema, String col, DataType type, String param) {
        if (Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException("column '" + col + "' already exists; set " + param + " to a new name");
        }
        return schema.add(col, type, false);
    }

    private static DataType typeOf(StructType schema, String col, String param) {
        if (!Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException("input has no column '" + col + "' (columns: "
                    + Arrays.toString(schema.fieldNames()) + "); set " + param);
        }
        return schema.apply(col).dataType();
    }
}
