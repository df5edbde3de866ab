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

    private static float sum(float[] v) {
        float t = 0;
        for (float x : v) {
            t += x;
        }
        return t;
    }
}
