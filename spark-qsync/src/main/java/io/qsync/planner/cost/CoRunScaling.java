package io.qsync.planner.cost;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A device profile corrected by a co-run: the job's ranks trained a few synchronized steps together, and the measured
 * compute and exchange differ from what the profile (measured with its rank alone) predicts. Workers that share one
 * card (SM slices) share its memory bandwidth and L2, and every rank of a host shares its CPUs and memory while the
 * ring runs. The layer costs, step overheads, cast and optimizer costs and the roofline are scaled by the compute
 * factor; the link's
 * time per byte and per hop by the exchange factor (its wait curve stays).
 */
public final class CoRunScaling {
    private CoRunScaling() {}

    /**
     * The factors a profile was scaled by.
     *
     * @param compute  on its compute terms
     * @param exchange on its link's time
     */
    public record Factors(double compute, double exchange) {}

    /** Factors outside this range are taken as a failed measurement (the profile is left as it is). */
    public static final double MIN_FACTOR = 0.5;

    /** Factors outside {@code [MIN_FACTOR, MAX_FACTOR]} are taken as a failed measurement. */
    public static final double MAX_FACTOR = 2.0;

    /**
     * @param p        a profile measured with its rank alone
     * @param compute  measured over predicted compute of a step of this device type in the co-run
     * @param exchange measured over predicted exposed exchange of the co-run's last rank
     * @param note     what to append to the source text
     * @return the corrected copy
     * @throws IllegalArgumentException if a factor lies outside {@code [MIN_FACTOR, MAX_FACTOR]}
     */
    public static DeviceProfile apply(DeviceProfile p, double compute, double exchange, String note) {
        for (double f : new double[] {compute, exchange}) {
            if (!(f >= MIN_FACTOR && f <= MAX_FACTOR)) {
                throw new IllegalArgumentException(
                        "co-run factor " + f + " outside [" + MIN_FACTOR + ", " + MAX_FACTOR + "] for " + p.name());
            }
        }
        if (p.coRun() != null) {
            throw new IllegalArgumentException(
                    "profile " + p.name() + " is already scaled by a co-run: scale its " + "alone() profile");
        }
        return scale(p, compute, exchange, p.source() + "; " + note, new Factors(compute, exchange));
    }

    /**
     * @param p a profile scaled by {@link #apply}
     * @return it without the co-run's factors (the source text keeps the note)
     */
    static DeviceProfile undo(DeviceProfile p) {
        Factors f = p.coRun();
        return scale(p, 1 / f.compute(), 1 / f.exchange(), p.source() + " (taken out: alone)", null);
    }

    private static DeviceProfile scale(
            DeviceProfile p, double compute, double exchange, String source, Factors factors) {
        List<LayerMeasurement> layers = new ArrayList<>();
        for (LayerMeasurement m : p.layers()) {
            layers.add(new LayerMeasurement(
                    m.signature(),
                    m.batch(),
                    m.precision(),
                    compute * m.forwardSeconds(),
                    compute * m.backwardSeconds()));
        }
        Map<String, Double> overheads = new LinkedHashMap<>();
        p.stepOverheads().forEach((k, v) -> overheads.put(k, compute * v));
        Map<String, LinearCost> casts = new LinkedHashMap<>();
        p.casts().forEach((k, v) -> casts.put(k, scaled(v, compute)));
        Roofline r = p.roofline(); // the analytic fallback (layers without a measurement) slows alike
        Map<io.qsync.lowprec.Precision, Double> peaks = new LinkedHashMap<>();
        r.peakFlopsPerSec().forEach((k, v) -> peaks.put(k, v / compute));
        Roofline roofline = new Roofline(
                peaks, r.efficiency(), r.memoryBytesPerSec() / compute, r.layerOverheadSeconds() * compute);
        Interconnect l = p.interconnect();
        Interconnect link = new Interconnect(
                l.name(), // the factors are in the profile (coRun) and its source text
                l.bandwidthBytesPerSec() / exchange,
                l.latencySeconds() * exchange,
                l.waitedFactor(),
                l.waitCurve());
        return new DeviceProfile(
                p.name(),
                p.estimate(),
                source,
                p.memoryBytes(),
                p.precisions(),
                p.castPolicy(),
                roofline,
                List.copyOf(layers),
                Map.copyOf(casts),
                scaled(p.optimizer(), compute),
                Map.copyOf(overheads),
                link,
                p.contextBytes(),
                factors);
    }

    private static LinearCost scaled(LinearCost c, double f) {
        return new LinearCost(f * c.alpha(), f * c.beta());
    }
}
