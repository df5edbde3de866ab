package io.qsync.runtime;

import io.qsync.comm.Communicator;
import io.qsync.comm.ReduceOp;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The training loop of one worker: agrees on the shard schedule with its peers, runs synchronous steps for every
 * epoch, checks that all replicas hold identical parameters every {@link RuntimeParams#checksumEvery()} steps, and
 * evaluates on its slice of the evaluation set after each epoch. Any failure aborts the communicator, so peers fail
 * promptly with this worker's message instead of waiting.
 */
public final class WorkerLoop {
  private final Communicator comm;
  private final RuntimeParams params;
  private final StepListener listener;
  private final ProgressSink progress;

  /**
   * @param comm     collectives among the workers (not closed by this class)
   * @param params   training parameters
   * @param listener called after each step, may be null
   * @param progress live progress (used on rank 0 only), may be null
   */
  public WorkerLoop(Communicator comm, RuntimeParams params, StepListener listener, ProgressSink progress) {
    this.comm = comm;
    this.params = params;
    this.listener = listener;
    this.progress = progress == null ? ProgressSink.NONE : progress;
  }

  /** Result of a worker: the trained model (identical on all workers) and rank 0's history. */
  public record Outcome(Model model, TrainingHistory history) {}

  /**
   * Trains {@code spec} on {@code shard}.
   *
   * @param eval evaluation rows (the same on every worker) or null
   */
  public Outcome run(ModelSpec spec, LocalShard shard, LocalShard eval) {
    try {
      return train(spec, shard, eval);
    } catch (RuntimeException | Error e) {
      comm.abort("rank " + comm.rank() + " failed: " + e);
      throw e;
    }
  }

  private Outcome train(ModelSpec spec, LocalShard shard, LocalShard eval) {
    ShardSchedule schedule = new ShardSchedule(gatherCounts(shard.count()), params.globalBatchSize());
    Model model = spec.restore();
    TrainableNetwork net = TrainableNetwork.of(model);
    SyncStep step = new SyncStep(net, comm);
    int rank = comm.rank();
    int steps = schedule.steps();
    List<EpochStats> epochs = new ArrayList<>();
    float[] losses = new float[steps * params.epochs()];
    float[] millis = new float[losses.length];
    long global = 0;
    for (int epoch = 0; epoch < params.epochs(); epoch++) {
      net.setEpoch(epoch);
      int[] order = EpochOrder.of(shard.count(), params.shuffle(), params.seed(), epoch, rank);
      double lossSum = 0;
      long samples = 0;
      long t0 = System.nanoTime();
      for (int s = 0; s < steps; s++, global++) {
        long ts = System.nanoTime();
        DataSet batch = shard.batch(order, schedule.shardStart(rank, s), schedule.shardEnd(rank, s),
            params.numClasses());
        int gb = schedule.globalBatch(s);
        double loss = step.run(batch, gb, epoch);
        if (!Double.isFinite(loss)) {
          throw new IllegalStateException("loss became " + loss + " at epoch " + (epoch + 1) + " step " + s
              + "; lower the learning rate or raise precision");
        }
        lossSum += loss;
        samples += gb;
        losses[(int) global] = (float) loss;
        millis[(int) global] = (System.nanoTime() - ts) / 1e6f;
        if (params.checksumEvery() > 0 && (global + 1) % params.checksumEvery() == 0) {
          verifyReplicas(net, global);
        }
        if (listener != null) {
          listener.onStep(rank, epoch, s, global, loss);
        }
        if (rank == 0) {
          progress.step(epoch, s, steps, loss, samples / ((System.nanoTime() - t0) / 1e9));
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      float[] ep = Arrays.copyOfRange(millis, (int) global - steps, (int) global);
      Arrays.sort(ep);
      double acc = eval == null ? Double.NaN : evaluate(net, eval);
      EpochStats stats = new EpochStats(epoch, steps, samples, lossSum / steps, seconds, acc, ep[ep.length / 2]);
      epochs.add(stats);
      if (rank == 0) {
        progress.epoch(stats);
      }
    }
    verifyReplicas(net, global - 1);
    return new Outcome(model, new TrainingHistory(comm.size(), List.copyOf(epochs), losses, millis));
  }

  private long[] gatherCounts(long mine) {
    byte[][] all = comm.allGather(ByteBuffer.allocate(8).putLong(mine).array());
    long[] counts = new long[all.length];
    for (int i = 0; i < all.length; i++) {
      counts[i] = ByteBuffer.wrap(all[i]).getLong();
    }
    return counts;
  }

  /** Fails if any two replicas' parameters differ (CRC32 of the raw bits). */
  private void verifyReplicas(TrainableNetwork net, long globalStep) {
    long mine = Nd4jBuffers.checksum(net.params());
    byte[][] all = comm.allGather(ByteBuffer.allocate(8).putLong(mine).array());
    for (int r = 0; r < all.length; r++) {
      long other = ByteBuffer.wrap(all[r]).getLong();
      if (other != mine) {
        throw new IllegalStateException(String.format("replicas diverged after step %d: parameter checksum of rank %d"
            + " is %08x but rank %d has %08x", globalStep + 1, comm.rank(), mine, r, other));
      }
    }
  }

  /** Accuracy over the whole evaluation set; each worker scores a contiguous slice, counts are summed. */
  private double evaluate(TrainableNetwork net, LocalShard eval) {
    int n = eval.count();
    int from = (int) ((long) comm.rank() * n / comm.size());
    int to = (int) ((long) (comm.rank() + 1) * n / comm.size());
    float correct = 0;
    for (int b = from; b < to; b += 1000) {
      int e = Math.min(to, b + 1000);
      DataSet ds = eval.batch(null, b, e, params.numClasses());
      INDArray pred = Nd4j.argMax(net.output(ds.getFeatures()), 1);
      for (int i = 0; i < e - b; i++) {
        if (pred.getInt(i) == eval.label(b + i)) {
          correct++;
        }
      }
    }
    float[] buf = {correct};
    comm.allReduce(buf, ReduceOp.SUM);
    return buf[0] / n;
  }
}
