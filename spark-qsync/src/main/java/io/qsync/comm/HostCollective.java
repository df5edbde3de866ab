package io.qsync.comm;

import java.util.Locale;

/**
 * Which collective the workers of one host use among themselves ({@value #KEY}): the TCP ring for everyone, or a
 * host collective (NCCL among a host's GPU workers) with the TCP ring only between hosts.
 */
public enum HostCollective {
    /** A host collective on every host whose workers can all join one (each its own GPU), the TCP ring elsewhere. */
    AUTO,
    /** The TCP ring among all workers. */
    RING,
    /** A host collective on every host with several workers; a host where that is impossible fails the job. */
    NCCL;

    /** Spark configuration key. */
    public static final String KEY = "spark.qsync.comm.collective";

    /** Parses {@code auto}, {@code ring} or {@code nccl} (any case); the error names {@value #KEY}. */
    public static HostCollective parse(String text) {
        if (text == null || text.isBlank()) {
            return AUTO;
        }
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(KEY + " must be auto, ring or nccl, got '" + text + "'");
        }
    }
}
