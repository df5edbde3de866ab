package io.qsync.lowprec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

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

    @Test
    void sharedScratchHoldsTheLargestRequestPerRole() {
        ArrayAllocator.Pool scratch = ArrayAllocator.sharedScratch();
        INDArray big = scratch.allocate("g", 'c', 4, 5);
        INDArray small = scratch.allocate("g", 'f', 2, 3);
        assertArrayEquals(new long[] {2, 3}, small.shape());
        assertEquals('f', small.ordering());
        assertEquals(big.data().address(), small.data().address(), "the smaller request reuses the buffer's start");
        assertEquals(20 * 4, scratch.heldBytes(), "the largest request, not the sum");
        small.assign(7f);
        assertEquals(7f, big.getFloat(0, 0));
        assertTrue(scratch.owns(small));
        INDArray larger = scratch.allocate("g", 'c', 5, 5);
        assertEquals(25 * 4, scratch.heldBytes(), "grows to the new largest request");
        assertFalse(scratch.owns(big), "the smaller buffer was replaced");
        assertTrue(scratch.owns(larger));
        scratch.allocate("dz", 'c', 3);
        assertEquals(Map.of("g", 100L, "dz", 12L), scratch.heldBytesByRole());
        ArrayAllocator.Pool exact = ArrayAllocator.pooled();
        exact.allocate("g", 'c', 4, 5);
        exact.allocate("g", 'c', 2, 3);
        assertEquals(6 * 4, exact.heldBytes(), "a per-layer pool replaces the buffer instead");
    }

    @Test
    void splitRoutesKeptAndScratchArrays() {
        ArrayAllocator.Pool kept = ArrayAllocator.pooled();
        ArrayAllocator.Pool scratch = ArrayAllocator.sharedScratch();
        ArrayAllocator split = ArrayAllocator.split(kept, scratch);
        assertSame(scratch, split.scratch());
        assertTrue(kept.owns(split.allocate("x", 'c', 2, 2)));
        assertTrue(scratch.owns(split.scratch().allocate("g", 'c', 3)));
        assertEquals((4 + 3) * 4, split.heldBytes());
        assertSame(kept, kept.scratch(), "a single pool is its own scratch allocator");
        assertSame(ArrayAllocator.FRESH, ArrayAllocator.FRESH.scratch());
    }
}
