package io.qsync.backend.cpu;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.LayerTiming;
import io.qsync.runtime.LayerClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A thread-safe {@link LayerTiming.Sink} that keeps every reported duration per layer index, precision and
 * direction, so that costs measured inside a real {@code computeGradient} (also inside a {@code local[n]} trainer,
 * where all workers share the JVM) can be reduced to robust medians. {@link #start()} installs it, {@link #close()}
 * switches timing off again.
 */
public final class LayerTimeRecorder implements LayerTiming.Sink, LayerClock {
    private final Map<String, List<Long>> samples = new ConcurrentHashMap<>();
    private final int skip;
    private final java.util.concurrent.atomic.AtomicLong wallTotal = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong cpuTotal = new java.util.concurrent.atomic.AtomicLong();

    /** @param skip samples per key to drop at the start (warm-up) */
    public LayerTimeRecorder(int skip) {
        this.skip = skip;
    }

    /** @return this recorder, installed as the JVM's layer timing sink */
    public LayerTimeRecorder start() {
        LayerTiming.install(this);
        return this;
    }

    @Override
    public void record(int layerIndex, Precision precision, boolean backward, long nanos, long cpuNanos) {
        wallTotal.addAndGet(nanos);
        cpuTotal.addAndGet(Math.min(cpuNanos, nanos));
        List<Long> l = samples.computeIfAbsent(key(layerIndex, precision, backward), k -> new ArrayList<>());
        synchronized (l) {
            l.add(nanos);
        }
    }

    /**
     * @param layerIndex layer index in its network
     * @param p          precision
     * @param backward   direction
     * @return median seconds after the warm-up samples, NaN if nothing was recorded
     */
    @Override
    public double medianSeconds(int layerIndex, Precision p, boolean backward) {
        List<Long> l = samples.get(key(layerIndex, p, backward));
        if (l == null) {
            return Double.NaN;
        }
        synchronized (l) {
            return LayerClock.medianSeconds(List.copyOf(l), skip);
        }
    }

    @Override
    public int count(int layerIndex, Precision p, boolean backward) {
        List<Long> l = samples.get(key(layerIndex, p, backward));
        return l == null ? 0 : l.size();
    }

    /**
     * @return Σ thread CPU time / Σ wall time over all recorded layer calls (1 when the layers ran undisturbed; about
     *     0.5 when their threads had to share a core with another busy process), 1 if nothing was recorded
     */
    @Override
    public double cpuShare() {
        long w = wallTotal.get();
        return w == 0 ? 1 : (double) cpuTotal.get() / w;
    }

    @Override
    public void reset() {
        samples.clear();
        wallTotal.set(0);
        cpuTotal.set(0);
    }

    /** Uninstalls the sink (if it is still this one). */
    @Override
    public void close() {
        LayerTiming.clear();
    }

    private static String key(int layerIndex, Precision p, boolean backward) {
        return layerIndex + "|" + p + "|" + (backward ? "B" : "F");
    }
}
