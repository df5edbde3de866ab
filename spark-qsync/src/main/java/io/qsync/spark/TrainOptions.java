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
 */
public record TrainOptions(LocalShard eval, StepListener listener, ProgressSink progress,
    List<PrecisionPlan> plansByRank) {

  /** Copies the plan list. */
  public TrainOptions {
    plansByRank = plansByRank == null ? List.of() : List.copyOf(plansByRank);
  }

  /** No evaluation, no listener, no progress, FP32 everywhere. */
  public static TrainOptions none() {
    return new TrainOptions(null, null, null, List.of());
  }

  /** With an evaluation set. */
  public TrainOptions withEval(LocalShard e) {
    return new TrainOptions(e, listener, progress, plansByRank);
  }

  /** With a step listener. */
  public TrainOptions withListener(StepListener l) {
    return new TrainOptions(eval, l, progress, plansByRank);
  }

  /** With a progress sink. */
  public TrainOptions withProgress(ProgressSink p) {
    return new TrainOptions(eval, listener, p, plansByRank);
  }

  /** With one precision plan per worker (index = rank). */
  public TrainOptions withPlans(List<PrecisionPlan> plans) {
    return new TrainOptions(eval, listener, progress, plans);
  }
}
