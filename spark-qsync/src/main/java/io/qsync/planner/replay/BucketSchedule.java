package io.qsync.planner.replay;

import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The gradient all-reduce of one iteration overlapped with the backward pass, as {@code io.qsync.runtime.SyncStep}
 * runs it: the flat gradient (the nodes' parameters in topological order) is cut from its end into buckets of
 * {@code bucketBytes}; a bucket is ready on a worker when the backward pass of every node owning part of it is done
 * (the backward runs in reverse topological order, so buckets become ready from the end of the vector), and the
 * bucket at the start of the vector, which carries the loss scalar, when the worker's backward pass has ended. The
 * buckets are all-reduced one after the other on each worker's communication thread; a ring collective starts when
 * the bucket is ready on every worker and the previous collective has finished, and runs at the slowest link. The
 * iteration ends with the last collective (the updater step is modelled at the start of the next one).
 *
 * @param buckets from the end of the vector to its start
 * @param end     when the last collective ends: the iteration time
 */
record BucketSchedule(List<Bucket> buckets, double end) {

    /**
     * One bucket's collective.
     *
     * @param from    first gradient element
     * @param to      end (exclusive)
     * @param ready   when every worker has produced it
     * @param start   when its all-reduce starts
     * @param seconds its all-reduce time
     */
    record Bucket(long from, long to, double ready, double start, double seconds) {
        /** @return when its all-reduce ends */
        double end() {
            return start + seconds;
        }
    }

    /** Copies the list. */
    BucketSchedule {
        buckets = List.copyOf(buckets);
    }

    /**
     * @param graph       network (parameter layout and counts)
     * @param bucketBytes bucket size; 0 or at least the gradient: one bucket after the backward pass
     * @param backwardEnd per worker, per node index: when that node's backward pass is done (from the step's start)
     * @param busy        per worker: when its backward pass has ended (its busy time)
     * @param allReduce   seconds of one all-reduce of that many bytes
     */
    static BucketSchedule of(
            LayerGraph graph, long bucketBytes, List<double[]> backwardEnd, double[] busy, AllReduceCost allReduce) {
        List<LayerNode> nodes = graph.nodes();
        long[] offset = new long[nodes.size() + 1];
        for (int i = 0; i < nodes.size(); i++) {
            offset[i + 1] = offset[i] + nodes.get(i).paramCount();
        }
        long total = offset[nodes.size()];
        long size = bucketBytes <= 0 ? Long.MAX_VALUE : Math.max(1, bucketBytes / 4);
        List<Bucket> out = new ArrayList<>();
        double free = 0;
        for (long to = total; to > 0 || out.isEmpty(); ) {
            long from = Math.max(0, to - size);
            double ready = 0;
            double earliest = Double.MAX_VALUE;
            for (int w = 0; w < busy.length; w++) {
                double r = from == 0 ? busy[w] : 0;
                for (int i = 0; i < nodes.size(); i++) {
                    if (offset[i] < to && offset[i + 1] > from) {
                        r = Math.max(r, backwardEnd.get(w)[i]);
                    }
                }
                ready = Math.max(ready, r);
                earliest = Math.min(earliest, Math.max(r, free));
            }
            double bytes = 4.0 * (to - from) + (from == 0 ? 4.0 : 0);
            double start = Math.max(ready, free);
            // the rank that arrives last pays for how long its peers have been waiting in the collective
            double seconds = allReduce.seconds(bytes, start - earliest);
            Bucket b = new Bucket(from, to, ready, start, seconds);
            out.add(b);
            free = b.end();
            to = from;
        }
        return new BucketSchedule(out, free);
    }

    /** Seconds of one all-reduce of {@code bytes} whose last rank arrives {@code lagSeconds} after the first. */
    @FunctionalInterface
    interface AllReduceCost {
        double seconds(double bytes, double lagSeconds);
    }

    /** @return the collectives' total time, hidden or not */
    double collectiveSeconds() {
        return buckets.stream().mapToDouble(Bucket::seconds).sum();
    }
}
