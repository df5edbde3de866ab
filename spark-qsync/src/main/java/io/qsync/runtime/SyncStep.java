package io.qsync.runtime;

import io.qsync.comm.Communicator;
import io.qsync.comm.ReduceOp;
import java.nio.FloatBuffer;

/**
 * One synchronous data-parallel step: local forward/backward on this worker's shard, an all-reduce (sum) of the
 * per-example-summed gradients of all shards, and the same updater step on every replica with the global batch size
 * as divisor. The result equals one DL4J {@code fit} on the concatenated global batch, and since the all-reduce gives
 * bitwise-identical sums everywhere, replicas stay bitwise identical, whatever backend each worker's
 * {@link TrainingEngine} runs on.
 */
public final class SyncStep {
    private final TrainingEngine engine;
    private final Communicator comm;
    private final float[] lossBuf = new float[1];

    /** Binds an engine and a communicator. */
    public SyncStep(TrainingEngine engine, Communicator comm) {
        this.engine = engine;
        this.comm = comm;
    }

    /**
     * Runs the step.
     *
     * @param shard       this worker's rows of the global batch (non-empty)
     * @param globalBatch rows in the global batch (sum of all shards)
     * @param epoch       current epoch (for schedules)
     * @return the global batch's mean loss
     */
    public double run(HostBatch shard, int globalBatch, int epoch) {
        int local = shard.rows();
        double score = engine.computeGradient(shard);
        if (comm.size() > 1) {
            FloatBuffer grad = engine.gradient();
            // batch-norm running statistics are state updates, not summed gradients: average them by shard weight
            float weight = (float) ((double) local / globalBatch);
            for (long[] r : engine.nonAveragedRanges()) {
                for (int i = (int) r[0]; i < r[1]; i++) {
                    grad.put(i, grad.get(i) * weight);
                }
            }
            comm.allReduce(grad, ReduceOp.SUM);
            lossBuf[0] = (float) (score * local / globalBatch);
            comm.allReduce(lossBuf, ReduceOp.SUM);
            score = lossBuf[0];
        }
        engine.applyUpdate(globalBatch, epoch);
        return score;
    }
}
