package io.qsync.planner.replay;

/**
 * One node of a worker's replayed iteration.
 *
 * @param kind     {@code FWD}, {@code BWD}, {@code CAST}, {@code OVERHEAD}, {@code WAIT}, {@code ALLREDUCE},
 *                 {@code OPT}
 * @param label    e.g. {@code conv_0[INT8]}, {@code cast conv_0 in FP32->INT8}
 * @param start    seconds from the start of the iteration
 * @param duration seconds
 */
public record TimelineNode(String kind, String label, double start, double duration) {
    /** @return {@code start + duration} */
    public double end() {
        return start + duration;
    }
}
