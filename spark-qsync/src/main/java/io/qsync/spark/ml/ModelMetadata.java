package io.qsync.spark.ml;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A model's Spark ML metadata ({@code <path>/metadata}: one JSON line with class, uid, Spark version and param map,
 * the layout {@code Pipeline} persistence reads), written and read with public APIs only, so that one source works
 * with Spark 3.5 and 4 (whose internal {@code DefaultParamsWriter} signatures differ).
 */
final class ModelMetadata {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelMetadata() {}

    static void save(Params model, String path, SparkSession spark) {
        ObjectNode meta = JSON.createObjectNode();
        meta.put("class", model.getClass().getName());
        meta.put("timestamp", System.currentTimeMillis());
        meta.put("sparkVersion", spark.version());
        meta.put("uid", model.uid());
        ObjectNode set = meta.putObject("paramMap");
        ObjectNode defaults = meta.putObject("defaultParamMap");
        try {
            for (Param<?> p : model.params()) {
                @SuppressWarnings("unchecked")
                Param<Object> param = (Param<Object>) p;
                if (model.isSet(param)) {
                    set.set(
                            param.name(),
                            JSON.readTree(param.jsonEncode(model.get(param).get())));
                }
                if (model.hasDefault(param)) {
                    defaults.set(
                            param.name(),
                            JSON.readTree(
                                    param.jsonEncode(model.getDefault(param).get())));
                }
            }
            StructType schema = new StructType().add("value", DataTypes.StringType);
            spark.createDataFrame(List.of(RowFactory.create(JSON.writeValueAsString(meta))), schema)
                    .coalesce(1)
                    .write()
                    .text(path + "/metadata");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the metadata of " + model.uid(), e);
        }
    }

    /** Reads the metadata under {@code path}, checks the class, and returns the uid. */
    static String uid(String path, SparkSession spark, Class<?> expected) {
        JsonNode meta = read(path, spark);
        if (!expected.getName().equals(meta.path("class").asText())) {
            throw new IllegalArgumentException(
                    path + " holds a " + meta.path("class").asText() + ", not a " + expected.getName());
        }
        return meta.path("uid").asText();
    }

    /** Sets every param saved under {@code path} on {@code model}. */
    static void setParams(Params model, String path, SparkSession spark) {
        JsonNode saved = read(path, spark).path("paramMap");
        for (Iterator<Map.Entry<String, JsonNode>> it = saved.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            @SuppressWarnings("unchecked")
            Param<Object> param = (Param<Object>) model.getParam(e.getKey());
            model.set(param, param.jsonDecode(e.getValue().toString()));
        }
    }

    private static JsonNode read(String path, SparkSession spark) {
        String line = spark.read().text(path + "/metadata").first().getString(0);
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse the metadata under " + path, e);
        }
    }
}
