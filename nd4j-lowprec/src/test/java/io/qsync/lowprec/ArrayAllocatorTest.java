package io.qsync.lowprec;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArrayAllocatorTest {
    @Test
    void poolReportsOneBufferPerRole() {
        ArrayAllocator.Pool pool = ArrayAllocator.pooled();
        assertEquals(0, pool.heldBytes());
        INDArray a = pool.allocate("x", 'c', 3, 4);
        assertSame(a, pool.allocate("x", 'c', 3, 4), "same role, shape and order: reused");
        INDArray b = pool.allocate("g", 'f', 5, 2);
        assertEquals((12 + 10) * 4, pool.heldBytes());
        assertTrue(pool.owns(a));
        assertTrue(pool.owns(a.reshape('c', new long[] {12})), "a view of a pooled buffer");
        assertFalse(pool.owns(a.dup()));
        pool.allocate("x", 'c', 2, 4); // shape changed: replaces the role's buffer
        assertFalse(pool.owns(a));
        assertEquals(Map.of("x", 32L, "g", 40L), pool.heldBytesByRole());
        assertEquals((8 + 10) * 4, pool.heldBytes());
        assertTrue(pool.owns(b));
        assertEquals(0, ArrayAllocator.FRESH.heldBytes());
    }
}
