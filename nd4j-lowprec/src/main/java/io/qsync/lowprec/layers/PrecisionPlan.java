package io.qsync.lowprec.layers;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qsync.lowprec.Precision;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * An immutable assignment of precisions to layers, keyed by {@link LayerIds}. Applying a plan sets
 * the precision of every switchable layer of a live network (no re-initialisation, no parameter
 * copy): layers named in the plan get its precision, all other switchable layers go back to
 * {@link Precision#FP32} ("never quantize" is the default, so batch norm, softmax/loss and the
 * output layer stay FP32 unless named). The output layer's dense part can switch once it is a
 * {@link SwitchableOutputLayer} (as {@link SwitchableLayers#convert} makes it): a plan entry for its
 * id (e.g. {@code output_0}) applies, while {@link #uniform} never includes it; its activation and
 * loss stay FP32 in any case. Naming an unknown id, or a precision other than FP32 for a layer that
 * is not switchable, fails before anything is changed. Applying a plan also makes the network's switchable
 * layers share one scratch pool if they do not yet ({@link NetworkBuffers}, e.g. after a restore from a zip).
 *
 * @param layers layer id → precision (copied, unmodifiable, sorted by id)
 */
public record PrecisionPlan(Map<String, Precision> layers) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Copies and validates the map. */
    @JsonCreator
    public PrecisionPlan(@JsonProperty("layers") Map<String, Precision> layers) {
        if (layers == null) {
            throw new IllegalArgumentException("layers must not be null (use PrecisionPlan.empty())");
        }
        TreeMap<String, Precision> copy = new TreeMap<>();
        layers.forEach((id, p) -> {
            if (id == null || p == null) {
                throw new IllegalArgumentException("Plan entries must be non-null, got " + id + " -> " + p);
            }
            copy.put(id, p);
        });
        this.layers = Collections.unmodifiableMap(copy);
    }

    /** @return a plan with no entries (everything FP32) */
    public static PrecisionPlan empty() {
        return new PrecisionPlan(Map.of());
    }

    /**
     * @param net network
     * @param p   precision
     * @return a plan putting every switchable layer of {@code net} at {@code p}, except output layers
     *         (never quantized by default; add them with {@link #with})
     */
    public static PrecisionPlan uniform(MultiLayerNetwork net, Precision p) {
        return uniform(LayerIds.of(net), p);
    }

    /**
     * @param net graph
     * @param p   precision
     * @return a plan putting every switchable layer of {@code net} at {@code p}, except output layers
     *         (never quantized by default; add them with {@link #with})
     */
    public static PrecisionPlan uniform(ComputationGraph net, Precision p) {
        return uniform(LayerIds.of(net), p);
    }

    private static PrecisionPlan uniform(Map<String, Layer> ids, Precision p) {
        TreeMap<String, Precision> m = new TreeMap<>();
        ids.forEach((id, l) -> {
            if (l instanceof PrecisionSwitchable && !(l instanceof SwitchableOutputImpl)) {
                m.put(id, p);
            }
        });
        return new PrecisionPlan(m);
    }

    /**
     * @param id layer id
     * @param p  precision
     * @return a new plan with {@code id} set to {@code p}
     */
    public PrecisionPlan with(String id, Precision p) {
        TreeMap<String, Precision> m = new TreeMap<>(layers);
        m.put(id, p);
        return new PrecisionPlan(m);
    }

    /**
     * @param id layer id
     * @return the planned precision, FP32 if the plan does not name {@code id}
     */
    public Precision precisionOf(String id) {
        return layers.getOrDefault(id, Precision.FP32);
    }

    /** @return JSON {@code {"layers":{"conv_0":"INT8",...}}} */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Cannot serialize precision plan", e);
        }
    }

    /**
     * @param json text from {@link #toJson()}
     * @return the plan
     * @throws IllegalArgumentException on malformed JSON or unknown precision names
     */
    public static PrecisionPlan fromJson(String json) {
        try {
            return JSON.readValue(json, PrecisionPlan.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    "Not a precision plan (expected {\"layers\":{\"<id>\":\"<"
                            + java.util.Arrays.toString(Precision.values()) + ">\"}}): " + e.getOriginalMessage(),
                    e);
        }
    }

    /**
     * Sets the precision of every switchable layer of a live network.
     *
     * @param net network (ids per {@link LayerIds#of(MultiLayerNetwork)})
     */
    public void applyTo(MultiLayerNetwork net) {
        apply(LayerIds.of(net));
    }

    /**
     * Sets the precision of every switchable layer of a live graph.
     *
     * @param net graph (ids = vertex names)
     */
    public void applyTo(ComputationGraph net) {
        apply(LayerIds.of(net));
    }

    /**
     * A copy of {@code model} with its dense, convolution and output layers made switchable
     * ({@link SwitchableLayers#convert}) and set to this plan.
     *
     * @param model a {@link MultiLayerNetwork} or {@link ComputationGraph}
     * @return the converted copy, running this plan
     * @throws IllegalArgumentException naming the layer when the plan asks for what a layer cannot run
     */
    public org.deeplearning4j.nn.api.Model applyToSwitchableCopy(org.deeplearning4j.nn.api.Model model) {
        if (model instanceof MultiLayerNetwork m) {
            MultiLayerNetwork c = SwitchableLayers.convert(m);
            applyTo(c);
            return c;
        }
        ComputationGraph c = SwitchableLayers.convert((ComputationGraph) model);
        applyTo(c);
        return c;
    }

    private void apply(Map<String, Layer> ids) {
        for (Map.Entry<String, Precision> e : layers.entrySet()) {
            Layer l = ids.get(e.getKey());
            if (l == null) {
                throw new IllegalArgumentException("Precision plan names unknown layer id '" + e.getKey()
                        + "'; this network's layer ids are " + ids.keySet());
            }
            if (!(l instanceof PrecisionSwitchable) && e.getValue() != Precision.FP32) {
                throw new IllegalArgumentException(
                        "Layer '" + e.getKey() + "' (" + l.getClass().getSimpleName()
                                + ") can only run in FP32 but the plan asks for " + e.getValue()
                                + "; only dense, conv and output layers converted with SwitchableLayers.convert(...) can switch precision");
            }
        }
        Map<PrecisionSwitchable, Precision> previous = new java.util.IdentityHashMap<>();
        try {
            for (Map.Entry<String, Layer> e : ids.entrySet()) {
                if (e.getValue() instanceof PrecisionSwitchable s) {
                    previous.put(s, s.getPrecision());
                    s.setPrecision(precisionOf(e.getKey()));
                }
            }
        } catch (IllegalArgumentException ex) {
            previous.forEach(PrecisionSwitchable::setPrecision);
            throw ex;
        }
        NetworkBuffers.shareScratch(ids.values());
    }
}
