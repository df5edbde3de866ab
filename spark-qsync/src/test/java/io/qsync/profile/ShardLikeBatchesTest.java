package io.qsync.profile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.qsync.runtime.HostBatch;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The profiler's batches hold the sample's rows with their targets, gathered in a new order every step. */
class ShardLikeBatchesTest {
    @Test
    void everyGatheredRowIsASampleRowWithItsTargetInANewOrder() {
        int rows = 8;
        int f = 5;
        float[] x = new float[rows * f];
        float[] y = new float[rows * 2];
        for (int r = 0; r < rows; r++) {
            Arrays.fill(x, r * f, (r + 1) * f, r);
            y[2 * r] = r;
            y[2 * r + 1] = 100 + r;
        }
        ShardLikeBatches batches = new ShardLikeBatches(new HostBatch(rows, f, x, 2, y));
        HostBatch a = batches.next();
        HostBatch b = batches.next();
        assertEquals(rows, a.rows());
        for (HostBatch h : new HostBatch[] {a, b}) {
            for (int i = 0; i < rows; i++) {
                float id = h.features()[i * f];
                float[] row = Arrays.copyOfRange(h.features(), i * f, (i + 1) * f);
                float[] want = new float[f];
                Arrays.fill(want, id);
                assertArrayEquals(want, row, "row " + i + " is one sample row");
                assertArrayEquals(new float[] {id, 100 + id}, Arrays.copyOfRange(h.targets(), 2 * i, 2 * i + 2));
            }
        }
        assertNotEquals(Arrays.toString(a.features()), Arrays.toString(b.features()), "a new order each step");
    }
}
