package io.qsync.runtime;

/**
 * A worker's host batches, one per batch size, whose arrays the next batch of that size reuses. An epoch that splits
 * unevenly gives a worker two sizes in turn (e.g. 508 and 509 rows), so reusing only the previous step's batch would
 * allocate fresh arrays at every step: on the H100 host a 508-row Fashion-MNIST batch then took 1.66 ms to gather
 * instead of the profile's (reused) figure, and the Replayer under-predicted the step by 4 % (RESULTS §12l). Holds at
 * most {@link #MAX_SIZES} sizes; beyond that the least recently used goes. Not thread-safe: one per training loop.
 */
final class ReusedBatches {
    /** Most batch sizes kept. */
    static final int MAX_SIZES = 4;

    private final LocalShard shard;
    private final RecentBySize<HostBatch> bySize = new RecentBySize<>(MAX_SIZES, dropped -> {});

    /** @param shard the rows batches are gathered from */
    ReusedBatches(LocalShard shard) {
        this.shard = shard;
    }

    /**
     * Rows {@code order[from..to)} as a batch, in the arrays of the last batch of that size (which it overwrites).
     *
     * @see LocalShard#hostBatch(int[], int, int, int, HostBatch)
     */
    HostBatch next(int[] order, int from, int to, int numClasses) {
        HostBatch batch = shard.hostBatch(order, from, to, numClasses, bySize.get(to - from));
        bySize.put(batch.rows(), batch);
        return batch;
    }
}
