package io.qsync.runtime;

import java.io.Serializable;
import java.util.List;

/**
 * The state of a synchronous training job after {@code step} completed steps: the network (parameters, updater state,
 * iteration and epoch counters, as a DL4J model) and what is needed to continue exactly where it stopped — the data
 * position follows from the step, the schedule and the seeded epoch orders, so a resumed job visits the same rows in
 * the same order as an uninterrupted one.
 *
 * @param step          completed steps since the start of training (over all epochs)
 * @param workers       workers of the job that wrote it
 * @param stepsPerEpoch steps per epoch of that job
 * @param model         the network after {@code step} steps
 * @param losses        the loss of every completed step
 * @param millis        the duration of every completed step
 * @param epochs        statistics of the completed epochs
 */
public record Checkpoint(
        long step,
        int workers,
        int stepsPerEpoch,
        ModelSpec model,
        float[] losses,
        float[] millis,
        List<EpochStats> epochs)
        implements Serializable {

    /**
     * Fails unless this checkpoint was written by a job with the same workers and schedule.
     *
     * @throws IllegalStateException naming what differs
     */
    public void requireCompatible(int workers, int stepsPerEpoch) {
        if (workers != this.workers || stepsPerEpoch != this.stepsPerEpoch) {
            throw new IllegalStateException("the checkpoint at step " + step + " was written by a job of "
                    + this.workers
                    + " workers and " + this.stepsPerEpoch + " steps per epoch, this job has " + workers + " and "
                    + stepsPerEpoch
                    + "; resume with the same data, spark.qsync.numWorkers and spark.qsync.batchSize, or use "
                    + "another spark.qsync.checkpoint.dir");
        }
    }
}
