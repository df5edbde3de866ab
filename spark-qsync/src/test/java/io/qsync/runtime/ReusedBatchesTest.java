package io.qsync.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class ReusedBatchesTest {
    private static final int FEATURES = 3;
    private static final int CLASSES = 4;

    /** 12 rows; row r's features are r, r + 0.25, r + 0.5 and its label r mod 4. */
    private static LocalShard shard() {
        int rows = 12;
        float[] x = new float[rows * FEATURES];
        int[] y = new int[rows];
        for (int r = 0; r < rows; r++) {
            for (int f = 0; f < FEATURES; f++) {
                x[r * FEATURES + f] = r + 0.25f * f;
            }
            y[r] = r % CLASSES;
        }
        return new LocalShard(x, y, FEATURES);
    }

    @Test
    void alternatingSizesEachReuseTheirOwnArrays() {
        LocalShard shard = shard();
        ReusedBatches batches = new ReusedBatches(shard);
        int[] order = {11, 2, 7, 0, 5, 9, 1, 10, 3, 8, 6, 4};
        HostBatch three = batches.next(order, 0, 3, CLASSES);
        HostBatch four = batches.next(order, 3, 7, CLASSES);
        HostBatch threeAgain = batches.next(order, 7, 10, CLASSES);
        HostBatch fourAgain = batches.next(order, 8, 12, CLASSES);

        assertSame(three.features(), threeAgain.features(), "a 3-row batch reuses the last 3-row batch's features");
        assertSame(three.targets(), threeAgain.targets());
        assertSame(four.features(), fourAgain.features(), "a 4-row batch reuses the last 4-row batch's features");
        assertNotSame(three.features(), four.features());
        // the reused arrays hold exactly the new rows: order[7..10) = 10, 3, 8, labels one-hot with no stale ones
        assertArrayEquals(shard.hostBatch(order, 7, 10, CLASSES).features(), threeAgain.features());
        assertArrayEquals(shard.hostBatch(order, 7, 10, CLASSES).targets(), threeAgain.targets());
        assertArrayEquals(shard.hostBatch(order, 8, 12, CLASSES).targets(), fourAgain.targets());
        assertEquals(10f, threeAgain.features()[0]);
    }

    @Test
    void keepsAtMostFourSizesDroppingTheLeastRecentlyUsed() {
        ReusedBatches batches = new ReusedBatches(shard());
        HostBatch one = batches.next(null, 0, 1, CLASSES);
        HostBatch two = batches.next(null, 0, 2, CLASSES);
        batches.next(null, 0, 3, CLASSES);
        batches.next(null, 0, 4, CLASSES);
        assertSame(one.features(), batches.next(null, 1, 2, CLASSES).features(), "four sizes are all kept");
        batches.next(null, 0, 5, CLASSES); // a fifth size: 2 rows, used least recently since 1 row came back, goes
        assertNotSame(two.features(), batches.next(null, 2, 4, CLASSES).features());
    }
}
