package io.qsync.lowprec.layers;

import io.qsync.lowprec.ArrayAllocator;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One-slot cache of a training forward pass (saved operands and a copy of the pre-activation) for
 * the backprop call that follows, keyed by the identity of the layer input and the stochastic stream
 * (layer, iteration, epoch). Cached arrays live outside DL4J workspaces so they survive the closing
 * of the forward pass's workspace scopes. A lookup consumes the entry.
 *
 * @param <C> the saved-context type
 */
final class ForwardCache<C> {
    /** A cached forward pass. */
    record Entry<C>(INDArray input, long stream, C context, INDArray preActivation) {
    }

    private Entry<C> entry;
    private long hits;

    /**
     * Runs {@code s} with allocations outside any workspace.
     *
     * @param s   the computation
     * @param <T> result type
     * @return its result
     */
    static <T> T detached(Supplier<T> s) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return s.get();
        }
    }

    /**
     * Stores a forward pass; {@code z} is copied into a buffer from {@code alloc} (the caller then
     * applies the activation to {@code z} in place).
     */
    void put(INDArray input, long stream, C context, INDArray z, ArrayAllocator alloc) {
        INDArray copy = detached(() -> alloc.allocate("zcache", z.ordering(), z.shape()).assign(z));
        entry = new Entry<>(input, stream, context, copy);
    }

    /** @return the entry if it matches {@code input} (same object) and {@code stream}; the slot is emptied either way */
    Entry<C> take(INDArray input, long stream) {
        Entry<C> e = entry;
        entry = null;
        boolean hit = e != null && e.input() == input && e.stream() == stream;
        hits += hit ? 1 : 0;
        return hit ? e : null;
    }

    /**
     * @param arrays the arrays a saved context holds (entries may be null)
     * @param pool   the layer's pool (null if none)
     * @return bytes the cached entry holds outside workspaces <em>and outside {@code pool}</em> (its context arrays
     *         and the pre-activation copy, each distinct buffer once), 0 if empty: add {@code pool.heldBytes()} for
     *         everything the layer holds
     */
    long unpooledBytes(Function<C, INDArray[]> arrays, ArrayAllocator.Pool pool) {
        Entry<C> e = entry;
        if (e == null) {
            return 0;
        }
        List<INDArray> all = new ArrayList<>(Arrays.asList(arrays.apply(e.context())));
        all.add(e.preActivation());
        return unpooledBytes(pool, all.toArray(new INDArray[0]));
    }

    /**
     * @param pool   a layer's pool (null if none)
     * @param arrays arrays held outside workspaces (entries may be null)
     * @return bytes of the distinct data buffers of {@code arrays} that are not in {@code pool}
     */
    static long unpooledBytes(ArrayAllocator.Pool pool, INDArray... arrays) {
        Set<DataBuffer> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        long n = 0;
        for (INDArray a : arrays) {
            if (a != null && (pool == null || !pool.owns(a)) && seen.add(a.data())) {
                n += a.data().length() * a.data().getElementSize();
            }
        }
        return n;
    }

    /** @return number of successful lookups so far */
    long hits() {
        return hits;
    }

    /** Drops the cached entry. */
    void clear() {
        entry = null;
    }
}
