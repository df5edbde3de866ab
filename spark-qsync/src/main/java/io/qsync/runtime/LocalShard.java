package io.qsync.runtime;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One worker's training rows in compact form: a row-major feature matrix and integer labels. Builds DL4J minibatches
 * (features {@code [b, numFeatures]}, one-hot labels {@code [b, numClasses]}) from any subset of its rows.
 */
public final class LocalShard implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    /**
     * Feature values from which {@link #hostBatch} gathers its rows in parallel chunks: a 1 024-row Fashion-MNIST
     * batch (3.2 MB of rows scattered over the shard) is gathered on the worker's step path, where a GPU waits for it.
     */
    static final int PARALLEL_FROM = 1 << 18;
    /** Rows per parallel chunk. */
    private static final int CHUNK_ROWS = 64;

    private final float[] features;
    private final int[] labels;
    private final int numFeatures;
    private final int count;

    /** Wraps existing arrays ({@code features.length == labels.length * numFeatures}). */
    public LocalShard(float[] features, int[] labels, int numFeatures) {
        if ((long) labels.length * numFeatures != features.length) {
            throw new IllegalArgumentException("LocalShard: " + labels.length + " labels and " + features.length
                    + " feature values do not match numFeatures=" + numFeatures);
        }
        this.features = features;
        this.labels = labels;
        this.numFeatures = numFeatures;
        this.count = labels.length;
    }

    /** Number of rows. */
    public int count() {
        return count;
    }

    /** Features per row. */
    public int numFeatures() {
        return numFeatures;
    }

    /** Label of row {@code i}. */
    public int label(int i) {
        return labels[i];
    }

    /**
     * A backend-neutral minibatch of rows {@code order[from..to)} (or rows {@code from..to} when {@code order} is
     * null), with one-hot labels over {@code numClasses}.
     */
    public HostBatch hostBatch(int[] order, int from, int to, int numClasses) {
        return hostBatch(order, from, to, numClasses, null);
    }

    /**
     * As {@link #hostBatch(int[], int, int, int)}, into {@code reuse}'s arrays when it has the same shape (else new
     * ones). A training loop passes its last batch of the same size ({@code ReusedBatches}): the engines copy a batch
     * before their step returns. On the H100 host, 256 rows gathered into fresh arrays took 0.24-0.81 ms per step from
     * job to job, into reused ones 0.23-0.41 ms (benchmarks/RESULTS.md §12g, §12h).
     *
     * @param reuse a batch no longer needed, or null
     */
    public HostBatch hostBatch(int[] order, int from, int to, int numClasses, HostBatch reuse) {
        int b = to - from;
        boolean same = reuse != null
                && reuse.rows() == b
                && reuse.numFeatures() == numFeatures
                && reuse.numTargets() == numClasses
                && reuse.targets() != null;
        float[] x = same ? reuse.features() : new float[b * numFeatures];
        float[] y = same ? reuse.targets() : new float[b * numClasses];
        if (same) {
            Arrays.fill(y, 0f);
        }
        gatherFeatures(order, from, b, x, (long) b * numFeatures >= PARALLEL_FROM);
        for (int j = 0; j < b; j++) {
            int row = order == null ? from + j : order[from + j];
            y[j * numClasses + labels[row]] = 1f;
        }
        return new HostBatch(b, numFeatures, x, numClasses, y);
    }

    /**
     * Copies the features of rows {@code order[from..from+rows)} (rows {@code from..} when {@code order} is null)
     * into {@code x}, row after row; with {@code parallel}, in chunks of {@link #CHUNK_ROWS} rows on the common
     * fork-join pool (the same values: each row is one copy).
     */
    void gatherFeatures(int[] order, int from, int rows, float[] x, boolean parallel) {
        if (!parallel) {
            copyRows(order, from, 0, rows, x);
            return;
        }
        int chunks = (rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
        java.util.stream.IntStream.range(0, chunks)
                .parallel()
                .forEach(c -> copyRows(order, from, c * CHUNK_ROWS, Math.min(rows, (c + 1) * CHUNK_ROWS), x));
    }

    private void copyRows(int[] order, int from, int j0, int j1, float[] x) {
        for (int j = j0; j < j1; j++) {
            int row = order == null ? from + j : order[from + j];
            System.arraycopy(features, row * numFeatures, x, j * numFeatures, numFeatures);
        }
    }

    /**
     * A DL4J minibatch of rows {@code order[from..to)} (or rows {@code from..to} when {@code order} is null).
     */
    public DataSet batch(int[] order, int from, int to, int numClasses) {
        HostBatch h = hostBatch(order, from, to, numClasses);
        INDArray xf = Nd4j.create(h.features(), new long[] {h.rows(), numFeatures}, 'c');
        INDArray yf = Nd4j.create(h.targets(), new long[] {h.rows(), numClasses}, 'c');
        return new DataSet(xf, yf);
    }
}
