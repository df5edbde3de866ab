package io.qsync.profile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

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
        try (ShardLikeBatches batches = new ShardLikeBatches(new HostBatch(rows, f, x, 2, y))) {
            HostBatch a = batches.next();
            assertEquals(rows, a.rows());
            String first = Arrays.toString(a.features());
            assertRowsAreSampleRows(a, rows, f);
            HostBatch b = batches.next();
            assertRowsAreSampleRows(b, rows, f);
            String second = Arrays.toString(b.features());
            assertNotEquals(first, second, "a new order each step");
            assertNotSame(a.features(), b.features(), "the next batch is gathered while this one is in use");
            HostBatch c = batches.next();
            assertRowsAreSampleRows(c, rows, f);
            assertSame(a.features(), c.features(), "arrays are reused every other step, as training reuses them");
            HostBatch d = batches.next();
            String fourth = Arrays.toString(d.features());
            batches.close(); // waits for the gather already started (into c's arrays)
            assertEquals(fourth, Arrays.toString(d.features()), "the gather ahead never writes the batch in use");
            assertSame(b.features(), d.features());
        }
    }

    private static void assertRowsAreSampleRows(HostBatch h, int rows, int f) {
        for (int i = 0; i < rows; i++) {
            float id = h.features()[i * f];
            float[] row = Arrays.copyOfRange(h.features(), i * f, (i + 1) * f);
            float[] want = new float[f];
            Arrays.fill(want, id);
            assertArrayEquals(want, row, "row " + i + " is one sample row");
            assertArrayEquals(new float[] {id, 100 + id}, Arrays.copyOfRange(h.targets(), 2 * i, 2 * i + 2));
        }
    }
}
