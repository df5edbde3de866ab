package io.qsync.lowprec;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where the low-precision ops get their temporary FP32 arrays. {@link #FRESH} allocates a new array
 * each time (in the current workspace, if any); {@link #pooled()} returns an allocator that keeps one
 * array per role outside all workspaces and hands it out again when the shape and order match. Fresh
 * off-heap memory is expensive to touch (page faults), so layers reuse buffers across iterations.
 *
 * <p>A pooled array stays valid until the same role is requested again from the same pool. Pools are
 * not thread-safe; use one per layer instance.
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

    /** @return a new reusing allocator (one buffer per role, kept outside workspaces) */
    static Pool pooled() {
        return new Pool();
    }

    /**
     * A reusing allocator: one FP32 buffer per role, allocated outside all workspaces and handed out again while
     * the requested shape and order match (otherwise replaced). Its buffers stay allocated for the life of the pool,
     * so {@link #heldBytes()} is memory a training iteration holds in addition to DL4J's workspaces. Not
     * thread-safe.
     */
    final class Pool implements ArrayAllocator {
        private final Map<String, INDArray> pool = new LinkedHashMap<>();

        Pool() {
        }

        @Override
        public INDArray allocate(String role, char order, long... shape) {
            INDArray a = pool.get(role);
            if (a == null || a.ordering() != order || !Arrays.equals(a.shape(), shape)) {
                try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                    a = Nd4j.createUninitialized(DataType.FLOAT, shape, order);
                }
                pool.put(role, a);
            }
            return a;
        }

        /** @return Σ over roles of the bytes of the role's current buffer */
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
                if (v == a || (addr >= start && addr < start + v.data().length() * v.data().getElementSize())) {
                    return true;
                }
            }
            return false;
        }
    }
}
