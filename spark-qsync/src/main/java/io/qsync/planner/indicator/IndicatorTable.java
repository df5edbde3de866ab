package io.qsync.planner.indicator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qsync.lowprec.Precision;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The result of an {@link Indicator}: ω per layer and precision. Immutable; JSON
 * {@code {"indicator":"gvar","omega":{"conv_0":{"INT8":1.2e-3,...},...}}}.
 *
 * @param indicator name of the indicator that produced it
 * @param omega     layer id → precision → ω (layers in graph order, precisions in {@link Precision} order)
 */
public record IndicatorTable(String indicator, Map<String, Map<Precision, Double>> omega) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Deep-copies the map (unmodifiable). */
    public IndicatorTable {
        Map<String, Map<Precision, Double>> copy = new LinkedHashMap<>();
        omega.forEach((id, m) -> copy.put(
                id,
                Collections.unmodifiableMap(
                        new EnumMap<>(m.isEmpty() ? new EnumMap<Precision, Double>(Precision.class) : m))));
        omega = Collections.unmodifiableMap(copy);
    }

    /**
     * @param layerId layer id
     * @param p       precision
     * @return ω(layerId, p)
     * @throws IllegalArgumentException naming what is available if the entry is missing
     */
    public double omega(String layerId, Precision p) {
        Map<Precision, Double> m = omega.get(layerId);
        if (m == null) {
            throw new IllegalArgumentException(
                    "Indicator " + indicator + " has no layer '" + layerId + "'; layers: " + omega.keySet());
        }
        Double v = m.get(p);
        if (v == null) {
            throw new IllegalArgumentException("Indicator " + indicator + " did not score " + p + " for layer '"
                    + layerId + "'; scored precisions: " + m.keySet() + " (add it to the menu)");
        }
        return v;
    }

    /** @return pretty-printed JSON */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Cannot serialize indicator table", e);
        }
    }

    /**
     * @param json text from {@link #toJson()}
     * @return the table
     */
    public static IndicatorTable fromJson(String json) {
        try {
            return JSON.readValue(json, IndicatorTable.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Not an indicator table JSON: " + e.getOriginalMessage(), e);
        }
    }
}
