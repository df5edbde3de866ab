package io.qsync.planner.stats;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Statistics of all switchable layers of a network. Immutable; JSON via {@link #toJson()} /
 * {@link #fromJson(String)}.
 *
 * @param batches   number of FP32 minibatches profiled (K)
 * @param batchSize examples per minibatch (of the first batch)
 * @param layers    layer id → statistics, in layer order
 */
public record ModelStatistics(int batches, int batchSize, Map<String, LayerStatistics> layers) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Copies the map (order kept, unmodifiable). */
    public ModelStatistics {
        layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
    }

    /**
     * @param id layer id
     * @return its statistics
     * @throws IllegalArgumentException naming the profiled layers if absent
     */
    public LayerStatistics layer(String id) {
        LayerStatistics s = layers.get(id);
        if (s == null) {
            throw new IllegalArgumentException(
                    "No statistics for layer '" + id + "'; profiled layers are " + layers.keySet());
        }
        return s;
    }

    /** @return pretty-printed JSON */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Cannot serialize statistics", e);
        }
    }

    /**
     * @param json text from {@link #toJson()}
     * @return the statistics
     * @throws IllegalArgumentException if the text is not statistics JSON
     */
    public static ModelStatistics fromJson(String json) {
        try {
            return JSON.readValue(json, ModelStatistics.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    "Not a statistics JSON (expected {\"batches\":K,\"batchSize\":B,"
                            + "\"layers\":{...}} as written by ModelStatistics.toJson / qsync profile-stats): "
                            + e.getOriginalMessage(),
                    e);
        }
    }
}
