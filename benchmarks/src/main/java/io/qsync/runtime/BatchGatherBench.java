package io.qsync.runtime;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * A worker's batch gather ({@link LocalShard#gatherFeatures}): rows of a 60 000-row, 784-feature shard (Fashion-MNIST's
 * size) in a shuffled epoch order into a reused batch array, row after row (the baseline, as before 2026-12-08) and in
 * parallel chunks ({@link LocalShard#hostBatch} from {@link LocalShard#PARALLEL_FROM} values on). Lives in the runtime
 * package to reach the package-private gather.
 */
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class BatchGatherBench extends io.qsync.bench.JmhDefaults {
    /** Rows per batch: the demo's 256 and the VGG-style CNN's 1 024. */
    @Param({"256", "1024"})
    public int rows;

    private LocalShard shard;
    private int[] order;
    private float[] x;
    private int step;

    /** A shard of Gaussian features and a shuffled order. */
    @Setup
    public void setUp() {
        int n = 60_000;
        int f = 784;
        Random r = new Random(7);
        float[] features = new float[n * f];
        for (int i = 0; i < features.length; i++) {
            features[i] = (float) r.nextGaussian();
        }
        shard = new LocalShard(features, new int[n], f);
        order = EpochOrder.of(n, true, 7, 0, 0);
        x = new float[rows * f];
    }

    private int nextFrom() {
        int from = step * rows;
        step = (step + 1) % (order.length / rows);
        return from;
    }

    /** Row after row: the baseline. */
    @Benchmark
    public float[] sequential() {
        shard.gatherFeatures(order, nextFrom(), rows, x, false);
        return x;
    }

    /** In chunks of 64 rows on the common pool. */
    @Benchmark
    public float[] parallel() {
        shard.gatherFeatures(order, nextFrom(), rows, x, true);
        return x;
    }
}
