package io.qsync.runtime;

import java.io.Serializable;

/**
 * Immutable training parameters every worker receives (built on the driver from {@code spark.qsync.*} settings or
 * Estimator params).
 *
 * @param epochs           passes over the training data ({@code spark.qsync.epochs})
 * @param globalBatchSize  rows per synchronous step over all workers ({@code spark.qsync.batchSize})
 * @param numClasses       label range {@code [0, numClasses)} ({@code spark.qsync.numClasses})
 * @param shuffle          shuffle each worker's rows every epoch ({@code spark.qsync.shuffle})
 * @param seed             seed of the shuffles ({@code spark.qsync.seed})
 * @param checksumEvery    compare parameter checksums across workers every this many steps, 0 = never
 *                         ({@code spark.qsync.checksumEvery})
 * @param threadsPerWorker native (OpenMP/BLAS) threads per worker, 0 = cores / workers in the same JVM
 *                         ({@code spark.qsync.threadsPerWorker})
 * @param backend          what trains: a {@link TrainingBackend}'s name or {@code auto} ({@code spark.qsync.backend})
 * @param bucketBytes      gradient bytes per all-reduce overlapped with the backward pass, 0 = one all-reduce after it
 *                         ({@code spark.qsync.comm.bucketBytes}; {@link SyncStep})
 */
public record RuntimeParams(
        int epochs,
        int globalBatchSize,
        int numClasses,
        boolean shuffle,
        long seed,
        int checksumEvery,
        int threadsPerWorker,
        String backend,
        int bucketBytes)
        implements Serializable {

    /** Validates every field; messages name the setting to change. */
    public RuntimeParams {
        require(epochs >= 1, "spark.qsync.epochs must be >= 1, got " + epochs);
        require(globalBatchSize >= 1, "spark.qsync.batchSize must be >= 1, got " + globalBatchSize);
        require(numClasses >= 2, "spark.qsync.numClasses must be >= 2, got " + numClasses);
        require(checksumEvery >= 0, "spark.qsync.checksumEvery must be >= 0 (0 = never), got " + checksumEvery);
        require(threadsPerWorker >= 0, "spark.qsync.threadsPerWorker must be >= 0 (0 = auto), got " + threadsPerWorker);
        require(backend != null && !backend.isBlank(), "spark.qsync.backend must name a backend (cpu, cuda) or auto");
        require(bucketBytes >= 0, "spark.qsync.comm.bucketBytes must be >= 0 (0 = no overlap), got " + bucketBytes);
    }

    /** Parameters with {@link SyncStep#DEFAULT_BUCKET_BYTES}-byte buckets. */
    public RuntimeParams(
            int epochs,
            int globalBatchSize,
            int numClasses,
            boolean shuffle,
            long seed,
            int checksumEvery,
            int threadsPerWorker,
            String backend) {
        this(epochs, globalBatchSize, numClasses, shuffle, seed, checksumEvery, threadsPerWorker, backend, (int)
                SyncStep.DEFAULT_BUCKET_BYTES);
    }

    /** Parameters for the CPU backend. */
    public RuntimeParams(
            int epochs,
            int globalBatchSize,
            int numClasses,
            boolean shuffle,
            long seed,
            int checksumEvery,
            int threadsPerWorker) {
        this(epochs, globalBatchSize, numClasses, shuffle, seed, checksumEvery, threadsPerWorker, "cpu");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
