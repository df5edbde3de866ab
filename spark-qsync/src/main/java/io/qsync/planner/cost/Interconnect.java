package io.qsync.planner.cost;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A device's link into the data-parallel ring.
 *
 * @param name                  e.g. {@code PCIe3 x16}, {@code loopback TCP}
 * @param bandwidthBytesPerSec  sustained bandwidth per direction
 * @param latencySeconds        per ring step latency (one send/receive hop)
 * @param waitedFactor          how much longer an all-reduce takes when a peer has waited in it for a while before
 *                              the last rank arrives (measured: the late rank's time over a simultaneous start, at the
 *                              gradient's size); 1 = no difference, and a missing value (0) reads as 1
 * @param waitCurve             the same factor measured at several lags of the last rank (empty: not measured, and
 *                              {@code waitedFactor} applies to any lag longer than the collective itself)
 */
public record Interconnect(
        String name,
        double bandwidthBytesPerSec,
        double latencySeconds,
        double waitedFactor,
        List<WaitPoint> waitCurve) {
    /**
     * How much longer an all-reduce takes on the rank that arrives {@code lagSeconds} after its peer entered it.
     *
     * @param lagSeconds how long the peer had been waiting in the collective
     * @param factor     the late rank's all-reduce time over a simultaneous start's
     */
    public record WaitPoint(double lagSeconds, double factor) {
        /** Checks the values. */
        public WaitPoint {
            if (!(lagSeconds > 0) || !(factor > 0)) {
                throw new IllegalArgumentException(
                        "a wait point needs lag > 0 and factor > 0, got " + lagSeconds + " s, " + factor);
            }
        }
    }

    /** Checks the values. */
    public Interconnect {
        if (!(bandwidthBytesPerSec > 0) || latencySeconds < 0 || waitedFactor < 0) {
            throw new IllegalArgumentException("Interconnect '" + name + "' needs bandwidth > 0, latency >= 0 and a "
                    + "waited factor >= 0, got " + bandwidthBytesPerSec + " B/s, " + latencySeconds + " s, "
                    + waitedFactor);
        }
        if (waitedFactor == 0) {
            waitedFactor = 1; // profiles written before it was measured
        }
        List<WaitPoint> sorted = new ArrayList<>(waitCurve == null ? List.of() : waitCurve); // null: older profiles
        sorted.sort(Comparator.comparingDouble(WaitPoint::lagSeconds));
        waitCurve = List.copyOf(sorted);
    }

    /** A link whose waited factor was measured at one long lag only. */
    public Interconnect(String name, double bandwidthBytesPerSec, double latencySeconds, double waitedFactor) {
        this(name, bandwidthBytesPerSec, latencySeconds, waitedFactor, List.of());
    }

    /** @return the waited factors for a report, e.g. {@code x1.65 after a wait} or {@code x1.2/1.6 after 2/20 ms} */
    public String describeWaits() {
        if (waitCurve.isEmpty()) {
            return String.format(java.util.Locale.ROOT, "x%.2f after a wait", waitedFactor);
        }
        StringBuilder f = new StringBuilder("x");
        StringBuilder l = new StringBuilder();
        for (WaitPoint p : waitCurve) {
            f.append(f.length() > 1 ? "/" : "").append(String.format(java.util.Locale.ROOT, "%.2f", p.factor()));
            l.append(l.length() > 0 ? "/" : "")
                    .append(String.format(java.util.Locale.ROOT, "%.3g", 1e3 * p.lagSeconds()));
        }
        return f + " after " + l + " ms waits";
    }

    /** A link that is as fast whether or not a peer waited ({@code waitedFactor} 1). */
    public Interconnect(String name, double bandwidthBytesPerSec, double latencySeconds) {
        this(name, bandwidthBytesPerSec, latencySeconds, 1);
    }

    /**
     * The factor on {@link #ringAllReduceSeconds} for the rank that arrives {@code lagSeconds} after the first rank
     * entered the collective. With a measured {@link #waitCurve()}: linear between its points, from 1 at no lag, and
     * the last point's factor beyond it. Without one: {@link #waitedFactor()} once the lag is longer than the
     * collective itself ({@code togetherSeconds}), else 1.
     *
     * @param lagSeconds      how long the first rank has waited in the collective
     * @param togetherSeconds the collective's time with a simultaneous start
     * @return the factor, 1 for no lag
     */
    public double factorAfterLag(double lagSeconds, double togetherSeconds) {
        if (!(lagSeconds > 0)) {
            return 1;
        }
        if (waitCurve.isEmpty()) {
            return lagSeconds > togetherSeconds ? waitedFactor : 1;
        }
        double lag0 = 0;
        double f0 = 1;
        for (WaitPoint p : waitCurve) {
            if (lagSeconds <= p.lagSeconds()) {
                return f0 + (p.factor() - f0) * (lagSeconds - lag0) / (p.lagSeconds() - lag0);
            }
            lag0 = p.lagSeconds();
            f0 = p.factor();
        }
        return f0;
    }

    /**
     * Ring all-reduce (reduce-scatter then all-gather, as {@code TcpRingCommunicator}): {@code 2(n-1)} steps, each
     * moving {@code bytes/n} over the link.
     *
     * @param bytes   buffer size
     * @param workers ring size
     * @return seconds (0 for a single worker)
     */
    public double ringAllReduceSeconds(double bytes, int workers) {
        if (workers <= 1) {
            return 0;
        }
        return 2.0 * (workers - 1) * (latencySeconds + bytes / workers / bandwidthBytesPerSec);
    }

    /**
     * The two-level all-reduce of {@code io.qsync.comm.HierarchicalCommunicator}, this being the link between hosts:
     * a ring all-reduce among each host's {@code perHost} workers over {@code hostLink} (NCCL), a ring all-reduce among
     * the {@code hosts} leaders over this link, and each leader's pipelined broadcast back to its host (one pass of the
     * bytes over {@code hostLink} plus a hop per worker).
     *
     * @param bytes    buffer size
     * @param perHost  workers per host sharing the host collective (1: none)
     * @param hosts    hosts (ring of leaders)
     * @param hostLink the link inside a host
     * @return seconds
     */
    public double twoLevelAllReduceSeconds(double bytes, int perHost, int hosts, Interconnect hostLink) {
        if (perHost <= 1) {
            return ringAllReduceSeconds(bytes, hosts);
        }
        double broadcast = (perHost - 1) * hostLink.latencySeconds() + bytes / hostLink.bandwidthBytesPerSec();
        return hostLink.ringAllReduceSeconds(bytes, perHost) + ringAllReduceSeconds(bytes, hosts) + broadcast;
    }

    /**
     * One all-reduce of {@code params} FP32 gradient elements with the loss scalar folded in (one extra float), as the
     * trainer runs it when the whole gradient is one bucket.
     *
     * @param params  gradient elements
     * @param workers ring size
     * @return seconds
     */
    public double gradientAllReduceSeconds(long params, int workers) {
        return ringAllReduceSeconds(4.0 * params + 4.0, workers);
    }
}
