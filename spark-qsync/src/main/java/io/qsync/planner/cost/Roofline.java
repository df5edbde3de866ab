package io.qsync.planner.cost;

import io.qsync.lowprec.Precision;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * Analytic fallback for what was not measured: {@code time = overhead + max(flops / (peak(p) * efficiency),
 * bytes / bandwidth)}. Backward does twice the forward work (input and weight gradients).
 *
 * @param peakFlopsPerSec     peak operations per second per precision (datasheet or measured)
 * @param efficiency          fraction of peak a typical layer reaches (0..1]
 * @param memoryBytesPerSec   memory bandwidth
 * @param layerOverheadSeconds fixed cost per layer and pass (kernel launch, framework dispatch)
 */
public record Roofline(
        Map<Precision, Double> peakFlopsPerSec,
        double efficiency,
        double memoryBytesPerSec,
        double layerOverheadSeconds) {
    /** Copies the map and checks the values. */
    public Roofline {
        if (!(efficiency > 0) || efficiency > 1 || !(memoryBytesPerSec > 0) || layerOverheadSeconds < 0) {
            throw new IllegalArgumentException("Roofline needs 0 < efficiency <= 1, bandwidth > 0, overhead >= 0; got "
                    + efficiency + ", " + memoryBytesPerSec + ", " + layerOverheadSeconds);
        }
        peakFlopsPerSec = Collections.unmodifiableMap(new EnumMap<>(
                peakFlopsPerSec.isEmpty() ? new EnumMap<Precision, Double>(Precision.class) : peakFlopsPerSec));
    }

    /**
     * @param p precision
     * @return true if a peak rate is known for {@code p}
     */
    public boolean supports(Precision p) {
        return peakFlopsPerSec.containsKey(p);
    }

    /**
     * @param flops operations
     * @param bytes bytes moved through memory
     * @param p     compute precision (its peak rate; FP32 for non-switchable layers)
     * @param device device name, for the error message
     * @return seconds
     */
    public double seconds(double flops, double bytes, Precision p, String device) {
        Double peak = peakFlopsPerSec.get(p);
        if (peak == null) {
            throw new IllegalArgumentException(
                    "Device " + device + " has no peak rate for " + p + " (known: " + peakFlopsPerSec.keySet()
                            + "); remove " + p + " from its precision menu or add a peak to its profile");
        }
        return layerOverheadSeconds + Math.max(flops / (peak * efficiency), bytes / memoryBytesPerSec);
    }
}
