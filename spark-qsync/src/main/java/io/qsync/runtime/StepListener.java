package io.qsync.runtime;

import java.io.Serializable;

/**
 * Called on every worker after each synchronous step (all workers see the same step and global loss). An exception
 * thrown here fails that worker, which aborts the job on all workers with this exception's message. Must be
 * serializable: it travels to the executors.
 */
@FunctionalInterface
public interface StepListener extends Serializable {

    /**
     * @param rank       this worker's rank
     * @param epoch      0-based epoch
     * @param step       0-based step within the epoch
     * @param globalStep 0-based step since the start of training
     * @param loss       the global batch's mean loss
     */
    void onStep(int rank, int epoch, int step, long globalStep, double loss);
}
