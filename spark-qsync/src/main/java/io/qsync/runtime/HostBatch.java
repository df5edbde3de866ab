package io.qsync.runtime;

/**
 * A minibatch in host memory, in the layout every backend accepts: row-major features {@code [rows, numFeatures]}
 * and row-major targets {@code [rows, numTargets]} (one-hot class labels for classification). A backend copies it
 * to wherever it computes (ND4J arrays, device memory); the arrays are owned by the batch and not modified.
 *
 * @param rows        examples in the batch (at least 1)
 * @param numFeatures values per example
 * @param features    {@code rows * numFeatures} values
 * @param numTargets  target values per example (classes, for one-hot labels)
 * @param targets     {@code rows * numTargets} values, or null for an inference batch
 */
public record HostBatch(int rows, int numFeatures, float[] features, int numTargets, float[] targets) {

    /** Checks the sizes. */
    public HostBatch {
        if (rows < 1 || numFeatures < 1) {
            throw new IllegalArgumentException(
                    "a batch needs rows >= 1 and numFeatures >= 1, got " + rows + " x " + numFeatures);
        }
        if (features.length != (long) rows * numFeatures) {
            throw new IllegalArgumentException(
                    "batch features: " + features.length + " values for " + rows + " rows of " + numFeatures);
        }
        if (targets != null && targets.length != (long) rows * numTargets) {
            throw new IllegalArgumentException(
                    "batch targets: " + targets.length + " values for " + rows + " rows of " + numTargets);
        }
    }

    /** An inference batch (features only). */
    public static HostBatch features(int rows, int numFeatures, float[] features) {
        return new HostBatch(rows, numFeatures, features, 0, null);
    }

    /** True when the batch carries targets (a training batch). */
    public boolean hasTargets() {
        return targets != null;
    }
}
