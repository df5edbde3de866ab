package io.qsync.planner.replay;

import java.util.List;

/**
 * The replayed iteration of one device type.
 *
 * @param name             worker label
 * @param device           device name
 * @param count            workers of this type
 * @param batch            examples per worker
 * @param forwardSeconds   layer forward time
 * @param backwardSeconds  layer backward time
 * @param castSeconds      cast nodes (neighbourhood rules, weight casts, dequantization)
 * @param overheadSeconds  measured framework overhead per step
 * @param optimizerSeconds updater step
 * @param allReduceSeconds the part of the gradient all-reduce (cluster-wide, slowest link) not hidden behind the
 *                         slowest worker's backward pass
 * @param waitSeconds      idle time waiting for the slowest worker to arrive
 * @param iterationSeconds this worker's own iteration without waiting (compute + collectives + optimizer)
 * @param peakMemoryBytes  predicted peak memory
 * @param memoryBytes      device memory
 * @param timeline         nodes in order (steady state: optimizer step, forward, backward, wait, all-reduce)
 */
public record WorkerReplay(
        String name,
        String device,
        int count,
        int batch,
        double forwardSeconds,
        double backwardSeconds,
        double castSeconds,
        double overheadSeconds,
        double optimizerSeconds,
        double allReduceSeconds,
        double waitSeconds,
        double iterationSeconds,
        long peakMemoryBytes,
        long memoryBytes,
        List<TimelineNode> timeline) {
    /** Copies the timeline. */
    public WorkerReplay {
        timeline = List.copyOf(timeline);
    }

    /** @return forward + backward + casts + overhead + optimizer: the time this worker is busy per iteration */
    public double busySeconds() {
        return forwardSeconds + backwardSeconds + castSeconds + overheadSeconds + optimizerSeconds;
    }
}
