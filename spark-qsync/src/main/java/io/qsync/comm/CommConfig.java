package io.qsync.comm;

import java.time.Duration;
import java.util.Locale;
import java.util.function.Function;

/**
 * Immutable settings of a {@link Communicator}.
 *
 * @param connectTimeout how long connecting to the ring (and joining a local group) may take; Spark key
 *                       {@value #CONNECT_TIMEOUT_KEY}
 * @param ioTimeout      the longest a collective may go without any progress (it must exceed the largest compute skew
 *                       between workers); Spark key {@value #IO_TIMEOUT_KEY}
 * @param chunkBytes     largest pipelining unit of the TCP ring in bytes (multiple of 4); Spark key
 *                       {@value #CHUNK_BYTES_KEY}
 * @param connections    TCP connections per ring neighbour, each driven by its own thread over its own stripe of every
 *                       large all-reduce (one socket and one thread cannot fill a fast link); Spark key
 *                       {@value #CONNECTIONS_KEY}
 * @param collective     what the workers of one host use among themselves; Spark key {@value HostCollective#KEY}
 */
public record CommConfig(
        Duration connectTimeout, Duration ioTimeout, int chunkBytes, int connections, HostCollective collective)
        implements java.io.Serializable {

    /** Spark configuration key of {@link #connectTimeout()}. */
    public static final String CONNECT_TIMEOUT_KEY = "spark.qsync.comm.connectTimeout";
    /** Spark configuration key of {@link #ioTimeout()}. */
    public static final String IO_TIMEOUT_KEY = "spark.qsync.comm.ioTimeout";
    /** Spark configuration key of {@link #chunkBytes()}. */
    public static final String CHUNK_BYTES_KEY = "spark.qsync.comm.chunkBytes";
    /** Spark configuration key of {@link #connections()}. */
    public static final String CONNECTIONS_KEY = "spark.qsync.comm.connections";
    /** Default {@link #connections()}. */
    public static final int DEFAULT_CONNECTIONS = 1;
    /** Largest accepted {@link #connections()}. */
    public static final int MAX_CONNECTIONS = 16;
    /** Smallest accepted {@link #chunkBytes()}. */
    public static final int MIN_CHUNK_BYTES = 4096;
    /** Largest accepted {@link #chunkBytes()}. */
    public static final int MAX_CHUNK_BYTES = 64 << 20;
    /** Default {@link #chunkBytes()}: 1 MiB. */
    public static final int DEFAULT_CHUNK_BYTES = 1 << 20;

    /** Validates the settings; the error names the Spark key to change. */
    public CommConfig {
        requirePositive(connectTimeout, CONNECT_TIMEOUT_KEY);
        requirePositive(ioTimeout, IO_TIMEOUT_KEY);
        if (chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES || chunkBytes % 4 != 0) {
            throw new IllegalArgumentException(CHUNK_BYTES_KEY + " must be a multiple of 4 between " + MIN_CHUNK_BYTES
                    + " and " + MAX_CHUNK_BYTES + " bytes, got " + chunkBytes);
        }
        if (connections < 1 || connections > MAX_CONNECTIONS) {
            throw new IllegalArgumentException(
                    CONNECTIONS_KEY + " must be between 1 and " + MAX_CONNECTIONS + ", got " + connections);
        }
        if (collective == null) {
            throw new IllegalArgumentException(HostCollective.KEY + " must be auto, ring or nccl");
        }
    }

    /** Settings with the {@link HostCollective#AUTO} host collective. */
    public CommConfig(Duration connectTimeout, Duration ioTimeout, int chunkBytes, int connections) {
        this(connectTimeout, ioTimeout, chunkBytes, connections, HostCollective.AUTO);
    }

    /** Settings with {@value #DEFAULT_CONNECTIONS} connections per neighbour. */
    public CommConfig(Duration connectTimeout, Duration ioTimeout, int chunkBytes) {
        this(connectTimeout, ioTimeout, chunkBytes, DEFAULT_CONNECTIONS);
    }

    /** Defaults: connect timeout 60 s, I/O timeout 300 s, 1 MiB chunks, {@value #DEFAULT_CONNECTIONS} connections. */
    public static CommConfig defaults() {
        return new CommConfig(Duration.ofSeconds(60), Duration.ofSeconds(300), DEFAULT_CHUNK_BYTES);
    }

    /** Returns a copy with another connect timeout. */
    public CommConfig withConnectTimeout(Duration d) {
        return new CommConfig(d, ioTimeout, chunkBytes, connections, collective);
    }

    /** Returns a copy with another I/O timeout. */
    public CommConfig withIoTimeout(Duration d) {
        return new CommConfig(connectTimeout, d, chunkBytes, connections, collective);
    }

    /** Returns a copy with another chunk size. */
    public CommConfig withChunkBytes(int bytes) {
        return new CommConfig(connectTimeout, ioTimeout, bytes, connections, collective);
    }

    /** Returns a copy with another number of connections per neighbour. */
    public CommConfig withConnections(int n) {
        return new CommConfig(connectTimeout, ioTimeout, chunkBytes, n, collective);
    }

    /** Returns a copy with another host collective. */
    public CommConfig withCollective(HostCollective c) {
        return new CommConfig(connectTimeout, ioTimeout, chunkBytes, connections, c);
    }

    /**
     * Reads the five {@code spark.qsync.comm.*} keys through {@code lookup} (e.g. {@code key -> sparkConf.get(key,
     * null)}); a missing key (null) keeps its default. Durations accept {@code ms}, {@code s}, {@code m} or {@code h}
     * suffixes (plain numbers are seconds).
     */
    public static CommConfig fromLookup(Function<String, String> lookup) {
        CommConfig d = defaults();
        String c = lookup.apply(CONNECT_TIMEOUT_KEY);
        String io = lookup.apply(IO_TIMEOUT_KEY);
        return new CommConfig(
                c == null ? d.connectTimeout : parseDuration(CONNECT_TIMEOUT_KEY, c),
                io == null ? d.ioTimeout : parseDuration(IO_TIMEOUT_KEY, io),
                parseInt(CHUNK_BYTES_KEY, lookup.apply(CHUNK_BYTES_KEY), d.chunkBytes, "an integer number of bytes"),
                parseInt(CONNECTIONS_KEY, lookup.apply(CONNECTIONS_KEY), d.connections, "an integer"),
                HostCollective.parse(lookup.apply(HostCollective.KEY)));
    }

    private static int parseInt(String key, String text, int dflt, String what) {
        if (text == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be " + what + ", got '" + text + "'");
        }
    }

    private static Duration parseDuration(String key, String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(
                        Long.parseLong(t.substring(0, t.length() - 2).trim()));
            } else if (t.endsWith("s")) {
                return Duration.ofSeconds(
                        Long.parseLong(t.substring(0, t.length() - 1).trim()));
            } else if (t.endsWith("m")) {
                return Duration.ofMinutes(
                        Long.parseLong(t.substring(0, t.length() - 1).trim()));
            } else if (t.endsWith("h")) {
                return Duration.ofHours(
                        Long.parseLong(t.substring(0, t.length() - 1).trim()));
            }
            return Duration.ofSeconds(Long.parseLong(t));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    key + " must be a duration such as 500ms, 30s or 2m, got '" + text + "'");
        }
    }

    private static void requirePositive(Duration d, String key) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(key + " must be a positive duration, got " + d);
        }
    }
}
