package io.qsync.runtime;

import java.util.Arrays;

/**
 * Splits an epoch into synchronous steps over workers with (possibly uneven) partitions.
 *
 * <p>With {@code N = sum(n_i)} rows and global batch {@code B}, an epoch has {@code S = ceil(N / B)} steps; at step
 * {@code s} worker {@code i} trains on its rows {@code [floor(s n_i / S), floor((s+1) n_i / S))} of its epoch order.
 * Every worker thus contributes in proportion to its partition, every row is used once per epoch, and each global
 * batch holds about {@code B} rows. The gradient of a step is the mean over the whole global batch (shard gradients
 * are summed, then divided by {@link #globalBatch(int)}), exactly as one process training on the concatenated shards.
 */
public final class ShardSchedule {
    private final long[] counts;
    private final int steps;

    /**
     * @param counts          rows per worker, indexed by rank
     * @param globalBatchSize the global batch size B
     * @throws IllegalArgumentException if a worker has no rows, or fewer rows than steps per epoch (it would have an
     *                                  empty shard at some step); the message says which setting to change
     */
    public ShardSchedule(long[] counts, int globalBatchSize) {
        if (globalBatchSize < 1) {
            throw new IllegalArgumentException(
                    "batch size must be >= 1 (spark.qsync.batchSize / --batch-size), got " + globalBatchSize);
        }
        if (counts.length == 0) {
            throw new IllegalArgumentException("no workers: spark.qsync.numWorkers must be >= 1");
        }
        this.counts = counts.clone();
        long total = 0;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] == 0) {
                throw new IllegalArgumentException(
                        "partition " + i + " of the training data is empty; every worker needs rows."
                                + " Lower spark.qsync.numWorkers (--workers) or repartition the input ("
                                + Arrays.toString(counts) + ")");
            }
            total += counts[i];
        }
        long s = (total + globalBatchSize - 1) / globalBatchSize;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] < s) {
                throw new IllegalArgumentException(
                        "partition " + i + " has " + counts[i] + " rows but an epoch of " + total
                                + " rows at batch size " + globalBatchSize + " has " + s
                                + " steps, so it would have empty shards. Raise "
                                + "spark.qsync.batchSize (--batch-size), lower spark.qsync.numWorkers or rebalance the partitions "
                                + Arrays.toString(counts));
            }
        }
        this.steps = (int) s;
    }

    /** Steps per epoch. */
    public int steps() {
        return steps;
    }

    /** Number of workers. */
    public int workers() {
        return counts.length;
    }

    /** Rows of worker {@code rank}. */
    public long count(int rank) {
        return counts[rank];
    }

    /** First position (in the worker's epoch order) of the shard of {@code rank} at {@code step}. */
    public int shardStart(int rank, int step) {
        return (int) (step * counts[rank] / steps);
    }

    /** End position (exclusive) of the shard of {@code rank} at {@code step}. */
    public int shardEnd(int rank, int step) {
        return (int) ((step + 1) * counts[rank] / steps);
    }

    /** Size of the shard of {@code rank} at {@code step}. */
    public int shardSize(int rank, int step) {
        return shardEnd(rank, step) - shardStart(rank, step);
    }

    /** The largest shard of worker {@code rank} over an epoch (ceil of its rows over the steps). */
    public int maxShard(int rank) {
        return (int) ((counts[rank] + steps - 1) / steps);
    }

    /** Size of the global batch at {@code step}: the sum of all shards. */
    public int globalBatch(int step) {
        int b = 0;
        for (int r = 0; r < counts.length; r++) {
            b += shardSize(r, step);
        }
        return b;
    }
}
