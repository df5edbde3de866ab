package io.qsync.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Batches gathered a step ahead on a background thread are the batches gathering in turn gives, and the gather never
 * writes the batch a step is using. Real shard, real threads; the shard is large enough for the parallel gather.
 */
class BatchesAheadTest {
    private static final int ROWS = 1000;
    private static final int F = 784;

    private static LocalShard shard() {
        Random r = new Random(3);
        float[] x = new float[ROWS * F];
        int[] labels = new int[ROWS];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat();
        }
        for (int i = 0; i < ROWS; i++) {
            labels[i] = i % 10;
        }
        return new LocalShard(x, labels, F);
    }

    /** A shuffled epoch order, as a worker's ({@link EpochOrder}). */
    private static int[] order(long seed) {
        return EpochOrder.of(ROWS, true, seed, 0, 0);
    }

    private static boolean threadAlive(String name) {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("qsync batch ahead, " + name) && t.isAlive());
    }

    /**
     * Uneven steps (333, 334, 333 rows: two sizes in turn, the first above the parallel gather's threshold), then
     * even ones (250 rows).
     */
    @Test
    void batchesGatheredAheadAreTheBatchesInTurnAndNeverTheOneInUse() {
        LocalShard shard = shard();
        int[] uneven = {0, 333, 667, 1000};
        int[] even = {0, 250, 500, 750, 1000}; // one size: a set's reused arrays would collide with the batch in use
        try (BatchesAhead batches = new BatchesAhead(shard, "test-ahead", true)) {
            for (int epoch = 0; epoch < 5; epoch++) {
                int[] order = order(epoch);
                int[] bounds = epoch < 3 ? uneven : even;
                HostBatch previous = null;
                float[] previousCopy = null;
                for (int s = 0; s + 1 < bounds.length; s++) {
                    HostBatch b = batches.take(order, bounds[s], bounds[s + 1], 10);
                    if (previous != null) { // the gather of this step's batch went into the other arrays
                        assertNotSame(previous.features(), b.features());
                        assertArrayEquals(previousCopy, previous.features(), "step " + (s - 1) + " was overwritten");
                    }
                    if (s + 2 < bounds.length) {
                        batches.ahead(order, bounds[s + 1], bounds[s + 2], 10);
                    }
                    HostBatch fresh = shard.hostBatch(order, bounds[s], bounds[s + 1], 10);
                    assertArrayEquals(fresh.features(), b.features(), "epoch " + epoch + " step " + s);
                    assertArrayEquals(fresh.targets(), b.targets(), "epoch " + epoch + " step " + s);
                    previous = b;
                    previousCopy = b.features().clone();
                }
            }
            assertTrue(threadAlive("test-ahead"), "gathered on its own thread");
            // a batch asked for that is not the one gathered ahead is gathered now
            int[] order = order(9);
            batches.ahead(order, 0, 100, 10);
            HostBatch other = batches.take(order, 100, 200, 10);
            assertArrayEquals(shard.hostBatch(order, 100, 200, 10).features(), other.features());
            assertThrows(IllegalStateException.class, () -> {
                batches.ahead(order, 0, 10, 10);
                batches.ahead(order, 10, 20, 10);
            });
        }
        assertFalse(threadAlive("test-ahead"), "close stops the thread");
    }

    /** A gather that fails on the background thread fails the step that takes its batch, with the same error. */
    @Test
    void aFailedGatherFailsTheStepWithItsOwnError() {
        LocalShard shard = shard();
        int[] bad = order(1);
        bad[5] = ROWS + 7; // no such row
        RuntimeException direct = assertThrows(RuntimeException.class, () -> shard.hostBatch(bad, 0, 10, 10));
        try (BatchesAhead batches = new BatchesAhead(shard, "test-fail", true)) {
            batches.take(order(1), 10, 20, 10);
            batches.ahead(bad, 0, 10, 10);
            RuntimeException ahead = assertThrows(RuntimeException.class, () -> batches.take(bad, 0, 10, 10));
            assertEquals(direct.getClass(), ahead.getClass());
            assertEquals(direct.getMessage(), ahead.getMessage());
        }
    }

    /** Off ({@code -Dqsync.batchAhead=false}), every batch is gathered on the caller's thread into one set of arrays. */
    @Test
    void offGathersInTurnWithoutAThread() {
        LocalShard shard = shard();
        int[] order = order(4);
        try (BatchesAhead batches = new BatchesAhead(shard, "test-off", false)) {
            assertFalse(threadAlive("test-off"));
            HostBatch a = batches.take(order, 0, 250, 10);
            batches.ahead(order, 250, 500, 10); // nothing happens
            HostBatch b = batches.take(order, 250, 500, 10);
            assertTrue(a.features() == b.features(), "one set of reused arrays, as before");
            assertArrayEquals(shard.hostBatch(order, 250, 500, 10).features(), b.features());
        }
    }

    private static WorkerLoop.Outcome train(LocalShard shard, boolean ahead) {
        System.setProperty("qsync.batchAhead", String.valueOf(ahead));
        try {
            org.deeplearning4j.nn.multilayer.MultiLayerNetwork net =
                    new org.deeplearning4j.nn.multilayer.MultiLayerNetwork(io.qsync.models.DemoModels.mlp(3, 32, 1e-3));
            net.init();
            RuntimeParams params = new RuntimeParams(2, 96, 10, true, 11, 0, 1, "cpu");
            var comm = new io.qsync.comm.LocalGroup(1, io.qsync.comm.CommConfig.defaults()).join(0);
            return new WorkerLoop(comm, params, null, ProgressSink.NONE).run(ModelSpec.of(net), shard, null);
        } finally {
            System.clearProperty("qsync.batchAhead");
        }
    }

    /** The real training loop, two shuffled epochs with a short last step: the same model either way, bit for bit. */
    @Test
    void trainingWithBatchesGatheredAheadEqualsTrainingWithBatchesInTurn() {
        LocalShard shard = shard();
        WorkerLoop.Outcome inTurn = train(shard, false);
        WorkerLoop.Outcome ahead = train(shard, true);
        assertEquals(inTurn.checksum(), ahead.checksum(), "parameters after two epochs");
        assertArrayEquals(inTurn.history().stepLosses(), ahead.history().stepLosses(), "every step's loss");
    }
}
