package io.qsync.planner.cost;

import io.qsync.lowprec.Precision;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A device profile corrected by a co-run: the job's ranks trained a few synchronized steps together, and the measured
 * compute and exchange differ from what the profile (measured with its rank alone) predicts. Workers that share one
 * card (SM slices) share its memory bandwidth and L2, and every rank of a host shares its CPUs and memory while the
 * ring runs. Sharing slows memory-bound work more than compute-bound work, so the co-run measures three configurations
 * (uniform FP32, FP16 and INT8, {@code CoRunProbe}) and a profile carries three compute factors: one on its FP32 layers,
 * step overheads, optimizer and FP32 peak; one on its INT8 layers and INT8 peak (an INT8 layer's forward runs INT8, its
 * backward FP16: on an H100's 32-SM slice it slowed less than FP16 work beside the 100-SM one); one on its other
 * precisions' layers, its casts, its other peaks and its memory bandwidth. The link's time per byte and per hop is
 * scaled by the exchange factor (its wait curve stays).
 */
public final class CoRunScaling {
    private CoRunScaling() {}

    /**
     * The factors a profile was scaled by.
     *
     * @param compute      on its FP32 layers and per-step terms (overheads, optimizer)
     * @param lowPrecision on its layers at other precisions and its casts (0 in JSON written before it: taken as
     *                     {@code compute})
     * @param exchange     on its link's time
     * @param int8         on its INT8 layers (0 in JSON written before it: taken as {@code lowPrecision})
     * @param jitter       not a factor: the step-to-step standard deviation of a rank's compute in the co-run, as a
     *                     fraction of its median (0: steady, or JSON written before it); the Replayer prices the wait
     *                     for the latest of several such ranks ({@code StepJitter})
     * @param stepCorrelation not a factor: how the co-run's ranks' step-to-step variations moved together (median
     *                     correlation over pairs of ranks, the same for every type of the job; 0 in JSON written before
     *                     it)
     */
    public record Factors(
            double compute, double lowPrecision, double exchange, double int8, double jitter, double stepCorrelation) {
        /** Reads a missing {@code lowPrecision} as {@code compute} and a missing {@code int8} as {@code lowPrecision}. */
        public Factors {
            if (lowPrecision == 0) {
                lowPrecision = compute;
            }
            if (int8 == 0) {
                int8 = lowPrecision;
            }
        }

        /** Without a measured jitter. */
        public Factors(double compute, double lowPrecision, double exchange, double int8) {
            this(compute, lowPrecision, exchange, int8, 0, 0);
        }

        /** The same factors with {@code jitter} and {@code stepCorrelation}. */
        public Factors withJitter(double jitter, double stepCorrelation) {
            return new Factors(compute, lowPrecision, exchange, int8, jitter, stepCorrelation);
        }

        /** INT8 work at the low-precision factor (a co-run without an INT8 configuration). */
        public Factors(double compute, double lowPrecision, double exchange) {
            this(compute, lowPrecision, exchange, lowPrecision);
        }

        /** One compute factor for every precision (a CPU co-run measures FP32 only). */
        public Factors(double compute, double exchange) {
            this(compute, compute, exchange);
        }

        /** The factor on work at {@code p}. */
        public double of(Precision p) {
            return p == Precision.FP32 ? compute : p == Precision.INT8 ? int8 : lowPrecision;
        }
    }

    /** Factors outside this range are taken as a failed measurement (the profile is left as it is). */
    public static final double MIN_FACTOR = 0.5;

    /** Factors outside {@code [MIN_FACTOR, MAX_FACTOR]} are taken as a failed measurement. */
    public static final double MAX_FACTOR = 2.0;

    /** A jitter above this fraction of the step is taken as a failed measurement. */
    public static final double MAX_JITTER = 0.5;

    /**
     * {@link #apply(DeviceProfile, Factors, String)} with one compute factor for every precision.
     */
    public static DeviceProfile apply(DeviceProfile p, double compute, double exchange, String note) {
        return apply(p, new Factors(compute, exchange), note);
    }

    /**
     * @param p    a profile measured with its rank alone
     * @param f    measured over predicted: compute of this device type's FP32 and low-precision work in the co-run,
     *             exposed exchange of the co-run's last rank
     * @param note what to append to the source text
     * @return the corrected copy
     * @throws IllegalArgumentException if a factor lies outside {@code [MIN_FACTOR, MAX_FACTOR]}
     */
    public static DeviceProfile apply(DeviceProfile p, Factors f, String note) {
        for (double x : new double[] {f.compute(), f.lowPrecision(), f.exchange(), f.int8()}) {
            if (!(x >= MIN_FACTOR && x <= MAX_FACTOR)) {
                throw new IllegalArgumentException(
                        "co-run factor " + x + " outside [" + MIN_FACTOR + ", " + MAX_FACTOR + "] for " + p.name());
            }
        }
        if (!(f.jitter() >= 0 && f.jitter() <= MAX_JITTER)) {
            throw new IllegalArgumentException(
                    "co-run jitter " + f.jitter() + " outside [0, " + MAX_JITTER + "] for " + p.name());
        }
        if (!(f.stepCorrelation() >= -1 && f.stepCorrelation() <= 1)) {
            throw new IllegalArgumentException(
                    "co-run step correlation " + f.stepCorrelation() + " outside [-1, 1] for " + p.name());
        }
        if (p.coRun() != null) {
            throw new IllegalArgumentException(
                    "profile " + p.name() + " is already scaled by a co-run: scale its alone() profile");
        }
        return scale(p, f, p.source() + "; " + note, f);
    }

    /**
     * @param p a profile scaled by {@link #apply}
     * @return it without the co-run's factors (the source text keeps the note)
     */
    static DeviceProfile undo(DeviceProfile p) {
        Factors f = p.coRun();
        Factors inverse = new Factors(1 / f.compute(), 1 / f.lowPrecision(), 1 / f.exchange(), 1 / f.int8());
        return scale(p, inverse, p.source() + " (taken out: alone)", null);
    }

    private static DeviceProfile scale(DeviceProfile p, Factors by, String source, Factors factors) {
        double compute = by.compute();
        double low = by.lowPrecision();
        double exchange = by.exchange();
        List<LayerMeasurement> layers = new ArrayList<>();
        for (LayerMeasurement m : p.layers()) {
            double x = by.of(m.precision());
            layers.add(new LayerMeasurement(
                    m.signature(), m.batch(), m.precision(), x * m.forwardSeconds(), x * m.backwardSeconds()));
        }
        Map<String, Double> overheads = new LinkedHashMap<>();
        p.stepOverheads().forEach((k, v) -> overheads.put(k, compute * v));
        Map<String, LinearCost> casts = new LinkedHashMap<>();
        p.casts().forEach((k, v) -> casts.put(k, scaled(v, low)));
        Roofline r = p.roofline(); // the analytic fallback (layers without a measurement) slows alike
        Map<Precision, Double> peaks = new LinkedHashMap<>();
        r.peakFlopsPerSec().forEach((k, v) -> peaks.put(k, v / by.of(k)));
        Roofline roofline =
                new Roofline(peaks, r.efficiency(), r.memoryBytesPerSec() / low, r.layerOverheadSeconds() * compute);
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
