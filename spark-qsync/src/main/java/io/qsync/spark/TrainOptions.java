package io.qsync.spark;

import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.runtime.LocalShard;
import io.qsync.runtime.ProgressSink;
import io.qsync.runtime.StepListener;
import java.util.List;

/**
 * Optional inputs of a training job.
 *
 * @param eval        rows scored after every epoch (null: no evaluation)
 * @param listener    called on every worker after every step (null: none)
 * @param progress    receives live progress on the driver (null: none)
 * @param plansByRank the precision plan of each worker, indexed by rank (empty: every worker trains in FP32 with the
 *                    network's own layers). With plans, dense and convolution layers are replaced by
 *                    precision-switchable layers (same parameters) and each worker applies its own plan.
 * @param batchWeights relative examples per step of each worker, indexed by rank (empty: equal); the training data
 *                    is partitioned in these proportions, so each worker's share of every global batch follows them
 * @param plannedTypes the device type each rank's plan was made for (empty: none); a worker that finds another type
 *                    logs a warning
 */
public record TrainOptions(
        LocalShard eval,
        StepListener listener,
        ProgressSink progress,
        List<PrecisionPlan> plansByRank,
        List<Integer> batchWeights,
        List<String> plannedTypes) {

    /** Options whose plans were made for no particular device types. */
    public TrainOptions(
            LocalShard eval,
            StepListener listener,
            ProgressSink progress,
            List<PrecisionPlan> plansByRank,
            List<Integer> batchWeights) {
        this(eval, listener, progress, plansByRank, batchWeights, List.of());
    }

    /** Copies the lists and checks the weights. */
    public TrainOptions {
        plansByRank = plansByRank == null ? List.of() : List.copyOf(plansByRank);
        batchWeights = batchWeights == null ? List.of() : List.copyOf(batchWeights);
        plannedTypes = plannedTypes == null ? List.of() : List.copyOf(plannedTypes);
        for (int w : batchWeights) {
            if (w < 1) {
                throw new IllegalArgumentException("batch weights must be >= 1, got " + batchWeights);
            }
        }
    }

    /** No evaluation, no listener, no progress, FP32 everywhere, equal shares. */
    public static TrainOptions none() {
        return new TrainOptions(null, null, null, List.of(), List.of());
    }

    /** With an evaluation set. */
    public TrainOptions withEval(LocalShard e) {
        return new TrainOptions(e, listener, progress, plansByRank, batchWeights, plannedTypes);
    }

    /** With a step listener. */
    public TrainOptions withListener(StepListener l) {
        return new TrainOptions(eval, l, progress, plansByRank, batchWeights, plannedTypes);
    }

    /** With a progress sink. */
    public TrainOptions withProgress(ProgressSink p) {
        return new TrainOptions(eval, listener, p, plansByRank, batchWeights, plannedTypes);
    }

    /** With one precision plan per worker (index = rank). */
    public TrainOptions withPlans(List<PrecisionPlan> plans) {
        return new TrainOptions(eval, listener, progress, plans, batchWeights, List.of());
    }

    /** With relative per-step batch weights per worker (index = rank). */
    public TrainOptions withBatchWeights(List<Integer> weights) {
        return new TrainOptions(eval, listener, progress, plansByRank, weights, plannedTypes);
    }

    /** With the precision plans and batch weights of a cluster plan bound to the workers. */
    public TrainOptions withClusterPlan(ClusterPlanBinding binding) {
        return new TrainOptions(
                eval, listener, progress, binding.plansByRank(), binding.batchWeights(), binding.typesByRank());
    }
}
