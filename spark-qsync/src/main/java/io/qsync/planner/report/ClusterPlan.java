package io.qsync.planner.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qsync.lowprec.Precision;
import io.qsync.planner.alloc.Allocation;
import io.qsync.planner.alloc.RebalanceAdvice;
import io.qsync.planner.replay.WorkerSpec;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The planner's output: device type → layer id → precision plus batch share, with the predicted times. JSON via
 * {@link #toJson()} / {@link #fromJson(String)}; {@link #layerPrecisions(String)} gives the trainer's plan of a type.
 *
 * @param model            model name
 * @param devices          device type → plan
 * @param budgetMillis     predicted iteration time of the fastest start (the budget)
 * @param clusterMillis    predicted iteration time of this plan
 * @param objective        Σ count × Σ ω
 * @param rebalance        {@code QSYNC}, {@code DB} or {@code LEAVE_OUT:<type>}
 * @param rebalanceReason  why
 */
public record ClusterPlan(
        String model,
        Map<String, DevicePlan> devices,
        double budgetMillis,
        double clusterMillis,
        double objective,
        String rebalance,
        String rebalanceReason) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Copies the map. */
    public ClusterPlan {
        devices = Collections.unmodifiableMap(new LinkedHashMap<>(devices));
    }

    /**
     * @param model  model name
     * @param a      allocation
     * @param advice rebalancing advice (may be null)
     * @return the plan
     */
    public static ClusterPlan of(String model, Allocation a, RebalanceAdvice advice) {
        int global = a.workers().stream().mapToInt(w -> w.count() * w.batch()).sum();
        Map<String, DevicePlan> d = new LinkedHashMap<>();
        for (WorkerSpec w : a.workers()) {
            d.put(
                    w.name(),
                    new DevicePlan(
                            w.device().name(),
                            w.device().estimate(),
                            w.count(),
                            w.batch(),
                            (double) w.count() * w.batch() / global,
                            w.plan()));
        }
        return new ClusterPlan(
                model,
                d,
                a.budgetSeconds() * 1e3,
                a.clusterSeconds() * 1e3,
                a.objective(),
                advice == null ? "QSYNC" : advice.decision(),
                advice == null ? "" : advice.reason());
    }

    /**
     * @param deviceType device type
     * @return its switchable layers' precisions (layer id → precision), the trainer's per-worker plan
     */
    public Map<String, Precision> layerPrecisions(String deviceType) {
        DevicePlan p = devices.get(deviceType);
        if (p == null) {
            throw new IllegalArgumentException(
                    "No device type '" + deviceType + "' in the plan; types: " + devices.keySet());
        }
        return p.layers();
    }

    /** @return pretty JSON */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Cannot serialize cluster plan", e);
        }
    }

    /**
     * @param json text from {@link #toJson()}
     * @return the plan
     */
    public static ClusterPlan fromJson(String json) {
        try {
            return JSON.readValue(json, ClusterPlan.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Not a cluster plan JSON: " + e.getOriginalMessage(), e);
        }
    }
}
