package io.qsync.spark.ml;

import java.util.Arrays;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Schema checks shared by the estimator and the model; messages name the column and the param to set. */
final class MlSchemas {
  private MlSchemas() {}

  static void requireFeatures(StructType schema, String col) {
    DataType t = typeOf(schema, col, "featuresCol");
    if (!(t instanceof ArrayType a) || !(a.elementType().equals(DataTypes.FloatType)
        || a.elementType().equals(DataTypes.DoubleType))) {
      throw new IllegalArgumentException("column '" + col + "' must be array<float> or array<double>, got "
          + t.simpleString() + "; set featuresCol");
    }
  }

  static void requireIntegral(StructType schema, String col) {
    DataType t = typeOf(schema, col, "labelCol");
    if (!(t.equals(DataTypes.IntegerType) || t.equals(DataTypes.LongType) || t.equals(DataTypes.ShortType)
        || t.equals(DataTypes.ByteType) || t.equals(DataTypes.DoubleType))) {
      throw new IllegalArgumentException("column '" + col + "' must hold integer labels, got " + t.simpleString()
          + "; set labelCol");
    }
  }

  static StructType withPrediction(StructType schema, String col) {
    if (Arrays.asList(schema.fieldNames()).contains(col)) {
      throw new IllegalArgumentException("column '" + col + "' already exists; set predictionCol to a new name");
    }
    return schema.add(col, DataTypes.DoubleType, false);
  }

  private static DataType typeOf(StructType schema, String col, String param) {
    if (!Arrays.asList(schema.fieldNames()).contains(col)) {
      throw new IllegalArgumentException("input has no column '" + col + "' (columns: "
          + Arrays.toString(schema.fieldNames()) + "); set " + param);
    }
    return schema.apply(col).dataType();
  }
}
