package io.qsync.spark.devices;

import java.io.Serializable;
import java.util.List;

/**
 * How tasks decide their device, from {@code spark.qsync.*} settings.
 *
 * @param typesByRank device type of each rank ({@code spark.qsync.plan.devices}); empty: discovered
 * @param cpuWorkers  the last this many ranks train on the CPU even where a GPU is visible
 *                    ({@code spark.qsync.device.cpuWorkers}: a GPU worker and a CPU worker on one machine)
 * @param smFraction  share of the GPU's streaming multiprocessors a GPU worker gets, by rank parity (experimental
 *                    green-context slicing, {@code spark.qsync.experimental.smFraction}); 0 = the whole device
 * @param weakMemoryBytes device memory cap of the weak slice ({@code spark.qsync.experimental.weakMemoryMiB}), 0 = none
 */
public record DiscoveryOptions(List<String> typesByRank, int cpuWorkers, double smFraction, long weakMemoryBytes)
        implements Serializable {
    /** Copies the list and checks the numbers. */
    public DiscoveryOptions {
        typesByRank = typesByRank == null ? List.of() : List.copyOf(typesByRank);
        if (cpuWorkers < 0) {
            throw new IllegalArgumentException("spark.qsync.device.cpuWorkers must be >= 0, got " + cpuWorkers);
        }
        if (smFraction < 0 || smFraction >= 1) {
            throw new IllegalArgumentException(
                    "spark.qsync.experimental.smFraction must be in [0, 1) (0 = off), got " + smFraction);
        }
        if (weakMemoryBytes < 0) {
            throw new IllegalArgumentException(
                    "spark.qsync.experimental.weakMemoryMiB must be >= 0 (0 = no cap), got " + (weakMemoryBytes >> 20));
        }
    }

    /** Plain discovery, no overrides. */
    public static DiscoveryOptions discovered() {
        return new DiscoveryOptions(List.of(), 0, 0, 0);
    }

    /**
     * @param rank       a rank
     * @param numWorkers ranks of the job
     * @return true when this rank must train on the CPU
     */
    public boolean cpuRank(int rank, int numWorkers) {
        return rank >= numWorkers - cpuWorkers;
    }
}
