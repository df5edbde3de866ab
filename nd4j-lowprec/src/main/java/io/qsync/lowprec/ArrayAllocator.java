package io.qsync.lowprec;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.common.util.ArrayUtil;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where the low-precision ops get their temporary FP32 arrays. {@link #FRESH} allocates a new array
 * each time (in the current workspace, if any); {@link #pooled()} returns an allocator that keeps one
 * array per role outside all workspaces and hands it out again when the shape and order match. Fresh
 * off-heap memory is expensive to touch (page faults), so layers reuse buffers across iterations.
 *
 * <p>Ops ask {@link #scratch()} for the arrays that are dead before the op call that allocates them
 * returns (im2col matrices, backward-format gradients, ...), and this allocator itself for the arrays
 * they keep (operands saved for backward). {@link #split} sends the two to different allocators, so a
 * layer can keep its saved operands in its own pool and take its scratch arrays from a pool shared by
 * all switchable layers of its network ({@link #sharedScratch()}).
 *
 * <p>A pooled array stays valid until the same role is requested again from the same pool. Pools are
 * not thread-safe: a pool must be used by one thread at a time (a per-layer pool by its layer, a shared
 * scratch pool by the one thread its network runs on at a time; DL4J networks are not thread-safe anyway).
 */
@FunctionalInterface
public interface ArrayAllocator {
    /** Allocates a new uninitialised array on every call. */
    ArrayAllocator FRESH = (role, order, shape) -> Nd4j.createUninitialized(DataType.FLOAT, shape, order);

    /**
     * @param role  what the array is for (one pooled buffer per role)
     * @param order 'c' or 'f'
     * @param shape shape
     * @return an uninitialised FP32 array of that shape and order
     */
    INDArray allocate(String role, char order, long... shape);

    /**
     * @return bytes of the arrays this allocator holds right now outside DL4J workspaces and reuses across calls
     *         ({@link #FRESH}: 0, its arrays belong to the caller)
     */
    default long heldBytes() {
        return 0;
    }

    /**
     * @return the allocator for arrays whose lifetime ends before the op call that allocates them returns
     *         (default: this allocator)
     */
    default ArrayAllocator scratch() {
        return this;
    }

    /** @return a new reusing allocator (one buffer per role, kept outside workspaces) */
    static Pool pooled() {
        return new Pool(false);
    }

    /**
     * @return a new reusing allocator for scratch arrays, meant to be shared by several layers: one buffer per role
     *         that only grows, its first elements handed out as an array of the requested shape, so it holds the
     *         largest request per role instead of one buffer per requester. Only for arrays that die within one op
     *         call: a second request for the same role reuses the memory of the first.
     */
    static Pool sharedScratch() {
        return new Pool(true);
    }

    /**
     * @param kept    allocator for the arrays an op keeps (what {@link #allocate} of the result uses)
     * @param scratch allocator for arrays that die within the op call (what {@link #scratch()} of the result returns)
     * @return an allocator that routes the two kinds of arrays to different allocators
     */
    static ArrayAllocator split(ArrayAllocator kept, ArrayAllocator scratch) {
        return new Split(kept, scratch);
    }

    /**
     * An allocator that takes kept arrays from {@code kept} and scratch arrays from {@code scratch}.
     *
     * @param kept    allocator of {@link #allocate}
     * @param scratch allocator returned by {@link #scratch()}
     */
    record Split(ArrayAllocator kept, ArrayAllocator scratch) implements ArrayAllocator {
        /** Validates the arguments. */
        public Split {
            if (kept == null || scratch == null) {
                throw new IllegalArgumentException("kept and scratch allocators must not be null");
            }
        }

        @Override
        public INDArray allocate(String role, char order, long... shape) {
            return kept.allocate(role, order, shape);
        }

        /** @return bytes held by both allocators (once if they are the same) */
        @Override
        public long heldBytes() {
            return kept.heldBytes() + (scratch == kept ? 0 : scratch.heldBytes());
        }
    }

    /**
     * A reusing allocator: one FP32 buffer per role, allocated outside all workspaces and handed out again while
     * the requested shape and order match. Otherwise a {@link #pooled()} pool replaces the buffer, while a
     * {@link #sharedScratch()} pool keeps it if it is large enough (an array of the requested shape over its first
     * elements) and replaces it by one of the requested size if not. Its buffers stay allocated for the life of the
     * pool, so {@link #heldBytes()} is memory a training iteration holds in addition to DL4J's workspaces. Not
     * thread-safe.
     */
    final class Pool implements ArrayAllocator {
        private final Map<String, INDArray> pool = new LinkedHashMap<>();
        private final boolean reuseLarger;

        Pool(boolean reuseLarger) {
            this.reuseLarger = reuseLarger;
        }

        @Override
        public INDArray allocate(String role, char order, long... shape) {
            INDArray a = pool.get(role);
            if (a != null && a.ordering() == order && Arrays.equals(a.shape(), shape)) {
                return a;
            }
            long n = ArrayUtil.prodLong(shape);
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                if (reuseLarger && a != null && n > 0 && a.data().length() >= n) {
                    a = Nd4j.create(a.data(), shape, Nd4j.getStrides(shape, order), 0L, order);
                } else {
                    a = Nd4j.createUninitialized(DataType.FLOAT, shape, order);
                }
            }
            pool.put(role, a);
            return a;
        }

        /** @return Σ over roles of the bytes of the role's current buffer (its full capacity) */
        @Override
        public long heldBytes() {
            long n = 0;
            for (INDArray a : pool.values()) {
                n += a.data().length() * a.data().getElementSize();
            }
            return n;
        }

        /** @return role → bytes of its current buffer (insertion order of the roles) */
        public Map<String, Long> heldBytesByRole() {
            Map<String, Long> m = new LinkedHashMap<>();
            pool.forEach((r, a) -> m.put(r, a.data().length() * a.data().getElementSize()));
            return m;
        }

        /**
         * @param a an array (may be null)
         * @return true if {@code a} is one of this pool's buffers or a view into one (its data starts inside a pooled buffer)
         */
        public boolean owns(INDArray a) {
            if (a == null) {
                return false;
            }
            long addr = a.data().address();
            for (INDArray v : pool.values()) {
                long start = v.data().address();
                if (v == a
                        || (addr >= start
                                && addr < start + v.data().length() * v.data().getElementSize())) {
                    return true;
                }
            }
            return false;
        }
    }
}
