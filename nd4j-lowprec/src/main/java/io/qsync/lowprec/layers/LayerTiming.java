package io.qsync.lowprec.layers;

import io.qsync.lowprec.Precision;

/**
 * Opt-in timing hook of the switchable layers: while a {@link Sink} is installed, every
 * {@code activate} and {@code backpropGradient} of a switchable layer reports its wall time (ND4J CPU ops are
 * synchronous, so this is the layer's cost inside the real {@code computeGradient}, workspaces and all). When no sink
 * is installed the cost is one volatile read per layer call. The sink is global to the JVM (every network, every
 * thread), so it also sees the workers of a {@code local[n]} Spark run; sinks must be thread-safe.
 */
public final class LayerTiming {
    private static volatile Sink sink;

    private LayerTiming() {}

    /** Receives layer timings. */
    @FunctionalInterface
    public interface Sink {
        /**
         * @param layerIndex the layer's index in its network ({@code Layer.getIndex()})
         * @param precision  the precision the layer ran at
         * @param backward   true for {@code backpropGradient}, false for {@code activate}
         * @param nanos      wall time of the call
         * @param cpuNanos   CPU time of the calling thread during the call (less than {@code nanos} when the thread
         *                   was descheduled, e.g. because other processes competed for the core)
         */
        void record(int layerIndex, Precision precision, boolean backward, long nanos, long cpuNanos);
    }

    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();

    /** @return the current thread's CPU time in ns (0 if the JVM cannot measure it) */
    static long cpuNow() {
        return THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : 0;
    }

    /**
     * Installs a sink (replacing any other).
     *
     * @param s the sink, or null to switch timing off
     */
    public static void install(Sink s) {
        sink = s;
    }

    /** Switches timing off. */
    public static void clear() {
        sink = null;
    }

    /** @return true while a sink is installed */
    public static boolean active() {
        return sink != null;
    }

    /**
     * Runs a layer call, reporting its times to the installed sink (if any).
     *
     * @param layerIndex the layer's index in its network
     * @param precision  the precision the layer runs at
     * @param backward   true for {@code backpropGradient}, false for {@code activate}
     * @param call       the call
     * @param <T>        its result type
     * @return its result
     */
    static <T> T timed(int layerIndex, Precision precision, boolean backward, java.util.function.Supplier<T> call) {
        Sink s = sink;
        if (s == null) {
            return call.get();
        }
        long c0 = cpuNow();
        long t0 = System.nanoTime();
        T r = call.get();
        long wall = System.nanoTime() - t0;
        s.record(layerIndex, precision, backward, wall, cpuNow() - c0);
        return r;
    }
}
