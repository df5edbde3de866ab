package io.qsync.planner.report;

import io.qsync.lowprec.Precision;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The plan of one device type.
 *
 * @param device         device (profile) name
 * @param estimate       true if its profile is a datasheet estimate
 * @param workers        workers of this type
 * @param batchPerWorker examples per worker per step
 * @param batchShare     fraction of the global batch this type computes
 * @param layers         switchable layer id → precision
 */
public record DevicePlan(
        String device,
        boolean estimate,
        int workers,
        int batchPerWorker,
        double batchShare,
        Map<String, Precision> layers) {
    /** Copies the map (sorted). */
    public DevicePlan {
        layers = Collections.unmodifiableMap(new TreeMap<>(layers));
    }
}
