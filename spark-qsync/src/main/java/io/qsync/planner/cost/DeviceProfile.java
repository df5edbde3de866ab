package io.qsync.planner.cost;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qsync.lowprec.Precision;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything the planner knows about one device type. Immutable; JSON via {@link #toJson()} / {@link #fromJson}.
 * Lookups with fallbacks live in {@link CostModel}.
 *
 * @param name           device type, e.g. {@code T4}, {@code cpu-1t}
 * @param estimate       true if the numbers are datasheet estimates rather than measurements
 * @param source         where the numbers come from
 * @param memoryBytes    memory available to one worker
 * @param precisions     the precision menu this device can run (switchable layers)
 * @param castPolicy     where conversions are paid
 * @param roofline       analytic fallback
 * @param layers         measured layer costs
 * @param casts          fitted cast costs keyed {@code "FROM->TO"} (elements); missing pairs use the roofline
 * @param optimizer      optimizer step cost (parameters)
 * @param stepOverheads  measured per-step framework overhead, keyed {@code "<model fingerprint>|<batch>"}
 * @param interconnect   link into the ring
 * @param contextBytes   memory of one worker the model cannot use (runtime context, libraries, framework pools):
 *                       measured by {@code qsync profile-device} (the process' resident bytes before training, less
 *                       the network's own arrays); null (absent in JSON) means {@link #DEFAULT_CONTEXT_BYTES}, the
 *                       assumption used for catalog devices and GPU profiles that did not record it
 * @param coRun          the co-run factors this profile was scaled by ({@link CoRunScaling}), or null: they apply
 *                       while it trains beside other workers, and {@link #alone()} takes them out again
 */
public record DeviceProfile(
        String name,
        boolean estimate,
        String source,
        long memoryBytes,
        List<Precision> precisions,
        CastPolicy castPolicy,
        Roofline roofline,
        List<LayerMeasurement> layers,
        Map<String, LinearCost> casts,
        LinearCost optimizer,
        Map<String, Double> stepOverheads,
        Interconnect interconnect,
        Long contextBytes,
        CoRunScaling.Factors coRun) {
    /**
     * Assumed per-worker context when none was measured: 512 MiB (a CUDA context with cuBLAS/cuDNN handles and the
     * framework's pools on a GPU). An assumption, not a measurement; measured profiles carry their own.
     */
    public static final long DEFAULT_CONTEXT_BYTES = 512L << 20;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A profile with the {@link #DEFAULT_CONTEXT_BYTES} context (catalog devices, profiles without a measurement). */
    public DeviceProfile(
            String name,
            boolean estimate,
            String source,
            long memoryBytes,
            List<Precision> precisions,
            CastPolicy castPolicy,
            Roofline roofline,
            List<LayerMeasurement> layers,
            Map<String, LinearCost> casts,
            LinearCost optimizer,
            Map<String, Double> stepOverheads,
            Interconnect interconnect) {
        this(
                name,
                estimate,
                source,
                memoryBytes,
                precisions,
                castPolicy,
                roofline,
                layers,
                casts,
                optimizer,
                stepOverheads,
                interconnect,
                null,
                null);
    }

    /** Copies collections and checks the menu. */
    public DeviceProfile {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("DeviceProfile needs a name");
        }
        if (precisions == null || precisions.isEmpty()) {
            throw new IllegalArgumentException("Device " + name + " has an empty precision menu; list at least FP32");
        }
        if (memoryBytes <= 0) {
            throw new IllegalArgumentException("Device " + name + " needs memoryBytes > 0, got " + memoryBytes);
        }
        precisions = List.copyOf(precisions);
        layers = layers == null ? List.of() : List.copyOf(layers);
        casts = Collections.unmodifiableMap(new LinkedHashMap<>(casts == null ? Map.of() : casts));
        stepOverheads =
                Collections.unmodifiableMap(new LinkedHashMap<>(stepOverheads == null ? Map.of() : stepOverheads));
        if (optimizer == null) {
            optimizer = new LinearCost(0, 0);
        }
        if (contextBytes == null) {
            contextBytes = DEFAULT_CONTEXT_BYTES;
        }
        if (contextBytes < 0) {
            throw new IllegalArgumentException("Device " + name + " needs contextBytes >= 0, got " + contextBytes);
        }
    }

    /**
     * @return this profile as measured with its worker alone: without the co-run factors it was scaled by (itself if
     *     none), for a worker that trains with no other
     */
    public DeviceProfile alone() {
        return coRun == null ? this : CoRunScaling.undo(this);
    }

    /** @return bytes the model may use: {@code memoryBytes − contextBytes} (negative if the context alone is larger) */
    public long modelBudgetBytes() {
        return memoryBytes - contextBytes;
    }

    /**
     * @param bytes measured context
     * @return a copy with another context term
     */
    public DeviceProfile withContextBytes(long bytes) {
        return new DeviceProfile(
                name,
                estimate,
                source,
                memoryBytes,
                precisions,
                castPolicy,
                roofline,
                layers,
                casts,
                optimizer,
                stepOverheads,
                interconnect,
                bytes,
                coRun);
    }

    /**
     * @param from source precision
     * @param to   target precision
     * @return the {@link #casts()} key
     */
    public static String castKey(Precision from, Precision to) {
        return from + "->" + to;
    }

    /**
     * @param memory new memory size
     * @return a copy with another memory size (e.g. a 16 GB V100)
     */
    public DeviceProfile withMemoryBytes(long memory) {
        return new DeviceProfile(
                name,
                estimate,
                source,
                memory,
                precisions,
                castPolicy,
                roofline,
                layers,
                casts,
                optimizer,
                stepOverheads,
                interconnect,
                contextBytes,
                coRun);
    }

    /**
     * @param menu new precision menu
     * @return a copy with another precision menu (e.g. pin a training GPU to FP32)
     */
    public DeviceProfile withPrecisions(List<Precision> menu) {
        return new DeviceProfile(
                name,
                estimate,
                source,
                memoryBytes,
                menu,
                castPolicy,
                roofline,
                layers,
                casts,
                optimizer,
                stepOverheads,
                interconnect,
                contextBytes,
                coRun);
    }

    /**
     * This profile with the layer measurements and step overheads of {@code other} added: the same device measured at
     * another batch size, so that {@link CostModel} interpolates between the batches instead of scaling one
     * measurement in proportion (a GPU's step time grows slower than its batch).
     *
     * @param other profile of the same device and network at another batch
     * @param note  what to append to the source text
     * @return the merged copy
     */
    public DeviceProfile withMeasurementsOf(DeviceProfile other, String note) {
        List<LayerMeasurement> all = new java.util.ArrayList<>(layers);
        all.addAll(other.layers());
        Map<String, Double> overheads = new java.util.LinkedHashMap<>(stepOverheads);
        other.stepOverheads().forEach(overheads::putIfAbsent);
        return new DeviceProfile(
                name,
                estimate,
                source + "; " + note,
                memoryBytes,
                precisions,
                castPolicy,
                roofline,
                List.copyOf(all),
                casts,
                optimizer,
                Map.copyOf(overheads),
                interconnect,
                contextBytes,
                coRun);
    }

    /**
     * @param newName name
     * @return a renamed copy
     */
    public DeviceProfile withName(String newName) {
        return new DeviceProfile(
                newName,
                estimate,
                source,
                memoryBytes,
                precisions,
                castPolicy,
                roofline,
                layers,
                casts,
                optimizer,
                stepOverheads,
                interconnect,
                contextBytes,
                coRun);
    }

    /** @return pretty JSON */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Cannot serialize device profile " + name, e);
        }
    }

    /**
     * @param json text from {@link #toJson()}
     * @return the profile
     * @throws IllegalArgumentException if the text is not a device profile
     */
    public static DeviceProfile fromJson(String json) {
        try {
            return JSON.readValue(json, DeviceProfile.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    "Not a device profile JSON (see DeviceProfile.toJson; for raw GPU "
                            + "measurements use GpuMeasurements.toProfile): " + e.getOriginalMessage(),
                    e);
        }
    }
}
