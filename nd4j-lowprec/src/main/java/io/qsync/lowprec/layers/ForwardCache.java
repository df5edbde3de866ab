package io.qsync.lowprec.layers;

import io.qsync.lowprec.ArrayAllocator;
import java.util.function.Supplier;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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
    record Entry<C>(INDArray input, long stream, C context, INDArray preActivation) {}

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
     * Stores a forward pass; {@code z} is copied into a buffer from {@code alloc} (role {@code "zcache"}, a kept
     * array: it lives until the backward pass; the caller then applies the activation to {@code z} in place).
     */
    void put(INDArray input, long stream, C context, INDArray z, ArrayAllocator alloc) {
        INDArray copy =
                detached(() -> alloc.allocate("zcache", z.ordering(), z.shape()).assign(z));
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

    /** @return the cached entry without consuming it (null if empty) */
    Entry<C> peek() {
        return entry;
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
