package io.qsync.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ShardScheduleTest {

    @Test
    void unevenPartitionsCoverEveryRowOnceAndKeepTheGlobalBatchNearB() {
        ShardSchedule s = new ShardSchedule(new long[] {700, 300, 11}, 100);
        assertEquals(11, s.steps());
        long total = 0;
        for (int r = 0; r < 3; r++) {
            int covered = 0;
            for (int step = 0; step < s.steps(); step++) {
                assertEquals(covered, s.shardStart(r, step), "shards are contiguous");
                covered = s.shardEnd(r, step);
            }
            assertEquals(s.count(r), covered);
            total += covered;
        }
        assertEquals(1011, total);
        for (int step = 0; step < s.steps(); step++) {
            assertTrue(Math.abs(s.globalBatch(step) - 1011.0 / 11) <= 3, "step " + step + ": " + s.globalBatch(step));
        }
    }

    @Test
    void emptyOrTooSmallPartitionsAreClearErrors() {
        var empty = assertThrows(IllegalArgumentException.class, () -> new ShardSchedule(new long[] {10, 0}, 4));
        assertTrue(
                empty.getMessage().contains("partition 1") && empty.getMessage().contains("spark.qsync.numWorkers"));
        var small = assertThrows(IllegalArgumentException.class, () -> new ShardSchedule(new long[] {1000, 2}, 10));
        assertTrue(small.getMessage().contains("spark.qsync.batchSize"), small.getMessage());
    }

    @Test
    void shuffledOrderIsAReproduciblePermutation() {
        int[] a = EpochOrder.of(1000, true, 7, 2, 1);
        int[] b = EpochOrder.of(1000, true, 7, 2, 1);
        int[] c = EpochOrder.of(1000, true, 7, 3, 1);
        assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b));
        assertTrue(!java.util.Arrays.equals(a, c));
        boolean[] seen = new boolean[1000];
        for (int i : a) {
            seen[i] = true;
        }
        for (boolean x : seen) {
            assertTrue(x);
        }
    }
}
