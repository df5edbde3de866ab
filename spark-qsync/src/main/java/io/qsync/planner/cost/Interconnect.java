package io.qsync.planner.cost;

/**
 * A device's link into the data-parallel ring.
 *
 * @param name                  e.g. {@code PCIe3 x16}, {@code loopback TCP}
 * @param bandwidthBytesPerSec  sustained bandwidth per direction
 * @param latencySeconds        per ring step latency (one send/receive hop)
 * @param waitedFactor          how much longer an all-reduce takes when a peer has waited in it for a while before
 *                              the last rank arrives (measured: the late rank's time over a simultaneous start, at the
 *                              gradient's size); 1 = no difference, and a missing value (0) reads as 1
 */
public record Interconnect(String name, double bandwidthBytesPerSec, double latencySeconds, double waitedFactor) {
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
    }

    /** A link that is as fast whether or not a peer waited ({@code waitedFactor} 1). */
    public Interconnect(String name, double bandwidthBytesPerSec, double latencySeconds) {
        this(name, bandwidthBytesPerSec, latencySeconds, 1);
    }

    /**
     * {@link #ringAllReduceSeconds} when one rank arrives after its peers have waited for it (longer than the
     * collective itself takes), times {@link #waitedFactor()}.
     */
    public double waitedRingAllReduceSeconds(double bytes, int workers) {
        return waitedFactor * ringAllReduceSeconds(bytes, workers);
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
