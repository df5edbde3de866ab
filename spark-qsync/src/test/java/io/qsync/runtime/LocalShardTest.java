package io.qsync.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

/** Batches gathered into the previous batch's arrays equal fresh ones, one-hot labels included. */
class LocalShardTest {
    private static LocalShard shard() {
        int rows = 12;
        int f = 3;
        float[] x = new float[rows * f];
        int[] labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < f; j++) {
                x[r * f + j] = 10 * r + j;
            }
            labels[r] = r % 4;
        }
        return new LocalShard(x, labels, f);
    }

    @Test
    void aReusedBatchEqualsAFreshOne() {
        LocalShard s = shard();
        int[] order = {11, 3, 7, 0, 5, 9, 1, 2, 4, 6, 8, 10};
        HostBatch first = s.hostBatch(order, 0, 4, 4, null);
        HostBatch second = s.hostBatch(order, 4, 8, 4, first);
        HostBatch fresh = s.hostBatch(order, 4, 8, 4);
        assertSame(first.features(), second.features(), "same shape: the arrays are reused");
        assertArrayEquals(fresh.features(), second.features());
        assertArrayEquals(fresh.targets(), second.targets(), "the previous one-hot labels are cleared");
        assertEquals(1f, sum(second.targets()) / 4, 0f, "one label per row");
        HostBatch shorter = s.hostBatch(order, 8, 11, 4, second);
        assertNotSame(second.features(), shorter.features(), "another row count: new arrays");
        assertArrayEquals(s.hostBatch(order, 8, 11, 4).targets(), shorter.targets());
    }

    /** A batch large enough to be gathered in parallel chunks holds each row where a row-by-row gather puts it. */
    @Test
    void aBatchGatheredInParallelHoldsEveryRowInOrder() {
        int rows = 3000;
        int f = 200;
        float[] x = new float[rows * f];
        for (int i = 0; i < x.length; i++) {
            x[i] = i;
        }
        LocalShard s = new LocalShard(x, new int[rows], f);
        int[] order = EpochOrder.of(rows, true, 3, 0, 0);
        int b = LocalShard.PARALLEL_FROM / f + 37; // past the threshold, and not a whole number of chunks
        HostBatch batch = s.hostBatch(order, 100, 100 + b, 2);
        for (int j = 0; j < b; j++) {
            int row = order[100 + j];
            assertEquals((float) row * f, batch.features()[j * f], "row " + j);
            assertEquals((float) row * f + f - 1, batch.features()[j * f + f - 1], "row " + j);
        }
        float[] sequential = new float[b * f];
        s.gatherFeatures(order, 100, b, sequential, false);
        assertArrayEquals(sequential, batch.features());
    }

    private static float sum(float[] v) {
        float t = 0;
        for (float x : v) {
            t += x;
        }
        return t;
    }
}
