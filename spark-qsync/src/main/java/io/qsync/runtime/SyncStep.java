package io.qsync.runtime;

import io.qsync.comm.Communicator;
import io.qsync.comm.ReduceOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * One synchronous data-parallel step: local forward/backward on this worker's shard, an all-reduce (sum) of the
 * per-example-summed gradients of all shards, and the same updater step on every replica with the global batch size
 * as divisor. The result equals one DL4J {@code fit} on the concatenated global batch, and since the all-reduce gives
 * bitwise-identical sums everywhere, replicas stay bitwise identical.
 */
public final class SyncStep {
  private final TrainableNetwork net;
  private final Communicator comm;
  private final float[] lossBuf = new float[1];

  /** Binds a network and a communicator. */
  public SyncStep(TrainableNetwork net, Communicator comm) {
    this.net = net;
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
  public double run(DataSet shard, int globalBatch, int epoch) {
    int local = shard.numExamples();
    double score = net.computeGradient(shard);
    INDArray grad = net.gradientView();
    if (comm.size() > 1) {
      // batch-norm running statistics are state updates, not summed gradients: average them by shard weight
      for (long[] r : net.nonAveragedRanges()) {
        // DL4J's flattened gradient view is a [1, n] row vector: index its columns
        INDArray range = grad.rank() == 2 ? grad.get(NDArrayIndex.point(0), NDArrayIndex.interval(r[0], r[1]))
            : grad.get(NDArrayIndex.interval(r[0], r[1]));
        range.muli((double) local / globalBatch);
      }
      comm.allReduce(Nd4jBuffers.floatView(grad), ReduceOp.SUM);
      lossBuf[0] = (float) (score * local / globalBatch);
      comm.allReduce(lossBuf, ReduceOp.SUM);
      score = lossBuf[0];
    }
    net.applyUpdate(globalBatch, epoch);
    return score;
  }
}
