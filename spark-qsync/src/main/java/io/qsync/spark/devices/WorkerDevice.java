package io.qsync.spark.devices;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.Serializable;
import java.util.Locale;

/**
 * What one worker trains on, as its task found it: a GPU (Spark's address, cudart/NVML facts) or the CPU (cores,
 * instruction set). {@link #type()} names the device type the planner plans for: a GPU's card ({@code h100}, with
 * {@code -<n>sm} when the worker has a slice of the streaming multiprocessors), a CPU's
 * {@code cpu-<isa>-<threads>t}; or the name {@code spark.qsync.plan.devices} gives the rank.
 *
 * @param rank         the task's rank (barrier partition)
 * @param host         the executor's host
 * @param kind         {@link #GPU} or {@link #CPU}: what the worker trains on
 * @param type         device type (the planner's and the profiles' name)
 * @param gpuAddress   the GPU address Spark gave the task ("" for none)
 * @param ordinal      CUDA ordinal the worker uses (-1 for a CPU worker)
 * @param name         device name (the card's NVML/cudart name, the CPU's model name)
 * @param smCount      streaming multiprocessors the worker may use (0 for a CPU)
 * @param memoryBytes  device memory (the JVM's max heap for a CPU worker)
 * @param capability   compute capability such as {@code 9.0} ("" for a CPU)
 * @param cores        host threads the worker trains with
 * @param isa          the CPU's widest vector instruction set ({@code avx512}, {@code avx2}, {@code avx}, {@code
 *                     neon}, {@code base})
 * @param note         how the type was decided when it is not plain discovery (override, unreadable GPU), or ""
 */
public record WorkerDevice(
        int rank,
        String host,
        String kind,
        String type,
        String gpuAddress,
        int ordinal,
        String name,
        int smCount,
        long memoryBytes,
        String capability,
        int cores,
        String isa,
        String note)
        implements Serializable {
    /** A GPU worker. */
    public static final String GPU = "gpu";
    /** A CPU worker. */
    public static final String CPU = "cpu";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Checks the kind and the type name. */
    public WorkerDevice {
        if (!GPU.equals(kind) && !CPU.equals(kind)) {
            throw new IllegalArgumentException("device kind must be gpu or cpu, got " + kind);
        }
        if (type == null || type.isBlank()) {
            throw new IllegalArgumentException("a worker device needs a type name");
        }
        gpuAddress = gpuAddress == null ? "" : gpuAddress;
        note = note == null ? "" : note;
    }

    /** @return true when the worker trains on a GPU */
    @JsonIgnore
    public boolean isGpu() {
        return GPU.equals(kind);
    }

    /** @return the same device under another type name (the {@code spark.qsync.plan.devices} override) */
    public WorkerDevice withType(String newType, String why) {
        return new WorkerDevice(
                rank,
                host,
                kind,
                newType,
                gpuAddress,
                ordinal,
                name,
                smCount,
                memoryBytes,
                capability,
                cores,
                isa,
                note.isEmpty() ? why : note + "; " + why);
    }

    /** @return one line for logs and reports */
    public String describe() {
        String what = isGpu()
                ? String.format(
                        Locale.ROOT,
                        "GPU %s (address %s, cuda:%d, %d SMs, %.1f GiB, cc %s)",
                        name,
                        gpuAddress,
                        ordinal,
                        smCount,
                        memoryBytes / 1073741824.0,
                        capability)
                : String.format(Locale.ROOT, "CPU %s (%s, %d threads)", name, isa, cores);
        return "rank " + rank + " on " + host + ": " + type + " = " + what + (note.isEmpty() ? "" : " [" + note + "]");
    }

    /** @return JSON */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write worker device facts", e);
        }
    }

    /** @return the device of {@link #toJson()} text */
    public static WorkerDevice fromJson(String json) {
        try {
            return JSON.readValue(json, WorkerDevice.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not worker device JSON: " + e.getOriginalMessage(), e);
        }
    }
}
