package io.qsync.runtime;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Values kept per batch size, at most {@code capacity} of them; beyond that the least recently used one is dropped and
 * handed to the eviction action (which frees it, where it holds memory). An epoch whose rows do not divide evenly gives
 * a worker two batch sizes in turn, so caches keyed by "the previous batch" miss at every step; this one keeps each
 * size. Used for a worker's host batches ({@code ReusedBatches}) and a CUDA engine's recorded passes. Not thread-safe.
 *
 * @param <V> what is kept per size
 */
public final class RecentBySize<V> {
    private final LinkedHashMap<Integer, V> bySize;
    private final Consumer<? super V> onEvict;

    /**
     * @param capacity most sizes kept (at least 1)
     * @param onEvict run on a value dropped to make room and on each value {@link #clear()} drops
     */
    public RecentBySize(int capacity, Consumer<? super V> onEvict) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.bySize = new LinkedHashMap<>(8, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, V> eldest) {
                if (size() <= capacity) {
                    return false;
                }
                onEvict.accept(eldest.getValue());
                return true;
            }
        };
        this.onEvict = onEvict;
    }

    /** The value kept for {@code size}, or null; marks it most recently used. */
    public V get(int size) {
        return bySize.get(size);
    }

    /** Keeps {@code value} for {@code size} (replacing what was kept, without evicting it), dropping the oldest beyond capacity. */
    public void put(int size, V value) {
        bySize.put(size, value);
    }

    /** Whether nothing is kept. */
    public boolean isEmpty() {
        return bySize.isEmpty();
    }

    /** The sizes kept, ascending. */
    public List<Integer> sizes() {
        return new ArrayList<>(new TreeSet<>(bySize.keySet()));
    }

    /** Drops every value, handing each to the eviction action. */
    public void clear() {
        List<V> values = new ArrayList<>(bySize.values());
        bySize.clear();
        values.forEach(onEvict);
    }
}
