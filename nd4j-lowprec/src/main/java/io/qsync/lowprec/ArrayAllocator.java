package io.qsync.lowprec;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.HashMap;
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

    /** @return a new reusing allocator (one buffer per role, kept outside workspaces) */
    static ArrayAllocator pooled() {
        Map<String, INDArray> pool = new HashMap<>();
        return (role, order, shape) -> {
            INDArray a = pool.get(role);
            if (a == null || a.ordering() != order || !Arrays.equals(a.shape(), shape)) {
                try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                    a = Nd4j.createUninitialized(DataType.FLOAT, shape, order);
                }
                pool.put(role, a);
            }
            return a;
        };
    }
}
