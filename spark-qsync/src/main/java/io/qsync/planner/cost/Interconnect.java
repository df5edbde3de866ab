package io.qsync.planner.cost;

/**
 * A device's link into the data-parallel ring.
 *
 * @param name                  e.g. {@code PCIe3 x16}, {@code loopback TCP}
 * @param bandwidthBytesPerSec  sustained bandwidth per direction
 * @param latencySeconds        per ring step latency (one send/receive hop)
 */
public record Interconnect(String name, double bandwidthBytesPerSec, double latencySeconds) {
    /** Checks the values. */
    public Interconnect {
        if (!(bandwidthBytesPerSec > 0) || latencySeconds < 0) {
            throw new IllegalArgumentException("Interconnect '" + name + "' needs bandwidth > 0 and latency >= 0, got "
                    + bandwidthBytesPerSec + " B/s, " + latencySeconds + " s");
        }
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
