package io.qsync.runtime;

import io.qsync.comm.Communicator;
import io.qsync.comm.ReduceOp;
import io.qsync.lowprec.layers.PrecisionPlan;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Model;

/**
 * The training loop of one worker, on whatever {@link TrainingEngine} its backend opens: agrees on the shard schedule with its peers, runs synchronous steps for every
 * epoch, checks that all replicas hold identical parameters every {@link RuntimeParams#checksumEvery()} steps, and
 * evaluates on its slice of the evaluation set after each epoch. Any failure aborts the communicator, so peers fail
 * promptly with this worker's message instead of waiting.
 */
public final class WorkerLoop {
    private final Communicator comm;
    private final RuntimeParams params;
    private final StepListener listener;
    private final ProgressSink progress;
    private final CheckpointStore checkpoints;
    private final int checkpointEvery;

    /**
     * @param comm     collectives among the workers (not closed by this class)
     * @param params   training parameters
     * @param listener called after each step, may be null
     * @param progress live progress (used on rank 0 only), may be null
     */
    public WorkerLoop(Communicator comm, RuntimeParams params, StepListener listener, ProgressSink progress) {
        this(comm, params, listener, progress, null, 0);
    }

    private WorkerLoop(
            Communicator comm,
            RuntimeParams params,
            StepListener listener,
            ProgressSink progress,
            CheckpointStore checkpoints,
            int checkpointEvery) {
        this.comm = comm;
        this.params = params;
        this.listener = listener;
        this.progress = progress == null ? ProgressSink.NONE : progress;
        this.checkpoints = checkpoints;
        this.checkpointEvery = checkpointEvery;
    }

    /**
     * This loop, resuming from the newest checkpoint in {@code store} (if any) and saving one every {@code every}
     * steps (rank 0 writes). Every rank of a job must be given the same store and period.
     */
    public WorkerLoop checkpointing(CheckpointStore store, int every) {
        if (every < 1) {
            throw new IllegalArgumentException("spark.qsync.checkpoint.everySteps must be >= 1, got " + every);
        }
        return new WorkerLoop(comm, params, listener, progress, store, every);
    }

    /**
     * Result of a worker.
     *
     * @param model    the trained network as a DL4J model (identical on all workers)
     * @param history  this worker's history (rank 0's is reported)
     * @param checksum CRC32 of the trained parameters' bits
     * @param device   where this worker trained ({@link TrainingEngine#device()})
     */
    public record Outcome(Model model, TrainingHistory history, long checksum, String device) {}

    /**
     * Trains {@code spec} on {@code shard}.
     *
     * @param eval evaluation rows (the same on every worker) or null
     */
    public Outcome run(ModelSpec spec, LocalShard shard, LocalShard eval) {
        return run(spec, null, shard, eval);
    }

    /**
     * Trains {@code spec} on {@code shard}, with this worker's layers at the precisions of {@code plan}.
     *
     * @param plan this worker's precision plan (null: the network as it is); the network must have
     *             precision-switchable layers for every id in the plan
     * @param eval evaluation rows (the same on every worker) or null
     */
    public Outcome run(ModelSpec spec, PrecisionPlan plan, LocalShard shard, LocalShard eval) {
        return run(spec, plan, params.threadsPerWorker(), -1, shard, eval);
    }

    /**
     * Trains {@code spec} on {@code shard} with the backend named by {@link RuntimeParams#backend()}.
     *
     * @param plan    this worker's precision plan, or null
     * @param threads host threads for the engine (0: leave the process' setting)
     * @param device  device ordinal for a GPU backend (-1: the backend's default)
     * @param eval    evaluation rows (the same on every worker) or null
     */
    public Outcome run(ModelSpec spec, PrecisionPlan plan, int threads, int device, LocalShard shard, LocalShard eval) {
        try {
            ShardSchedule schedule = new ShardSchedule(gatherCounts(shard.count()), params.globalBatchSize());
            Checkpoint resume = agreeOnCheckpoint(schedule);
            EngineRequest request = new EngineRequest(
                    resume == null ? spec : resume.model(), plan, device, threads, schedule.maxShard(comm.rank()));
            TrainingBackend backend = Backends.select(params.backend(), request);
            try (TrainingEngine engine = backend.open(request)) {
                return train(engine, schedule, shard, eval, resume);
            }
        } catch (RuntimeException | Error e) {
            comm.abort("rank " + comm.rank() + " failed: " + e);
            throw e;
        }
    }

    private Outcome train(
            TrainingEngine net, ShardSchedule schedule, LocalShard shard, LocalShard eval, Checkpoint resume) {
        try (SyncStep step = new SyncStep(net, comm, params.bucketBytes());
                BatchesAhead batches = new BatchesAhead(shard, "rank " + comm.rank())) {
            return train(net, step, batches, schedule, shard, eval, resume);
        }
    }

    private Outcome train(
            TrainingEngine net,
            SyncStep step,
            BatchesAhead batches,
            ShardSchedule schedule,
            LocalShard shard,
            LocalShard eval,
            Checkpoint resume) {
        int rank = comm.rank();
        int steps = schedule.steps();
        List<EpochStats> epochs = new ArrayList<>();
        float[] losses = new float[steps * params.epochs()];
        float[] millis = new float[losses.length];
        long global = 0;
        if (resume != null) {
            global = resume.step();
            System.arraycopy(resume.losses(), 0, losses, 0, (int) global);
            System.arraycopy(resume.millis(), 0, millis, 0, (int) global);
            epochs.addAll(resume.epochs());
        }
        ReplicaCheck check = new ReplicaCheck(comm);
        float[][] phases = new float[4][steps]; // batch assembly, local gradient, exposed exchange, update
        float[] startedAt = new float[StepLog.ON ? steps : 0]; // seconds since the JVM started, as GC logs stamp them
        if (params.checksumEvery() > 0) {
            check.parameters(net, global == 0 ? "before the first step" : "on resuming after step " + global);
        }
        for (int epoch = (int) (global / steps); epoch < params.epochs(); epoch++) {
            net.setEpoch(epoch);
            int[] order = EpochOrder.of(shard.count(), params.shuffle(), params.seed(), epoch, rank);
            double lossSum = 0;
            long samples = 0;
            int first = (int) (global - (long) epoch * steps);
            for (int s = 0; s < first; s++) { // steps of this epoch done before the checkpoint
                lossSum += losses[epoch * steps + s];
                samples += schedule.globalBatch(s);
            }
            long t0 = System.nanoTime();
            for (int s = first; s < steps; s++, global++) {
                long ts = System.nanoTime();
                if (StepLog.ON) {
                    startedAt[s] = ManagementFactory.getRuntimeMXBean().getUptime() / 1e3f;
                }
                HostBatch batch = batches.take(
                        order, schedule.shardStart(rank, s), schedule.shardEnd(rank, s), params.numClasses());
                if (s + 1 < steps) { // gathered while this step trains
                    batches.ahead(
                            order,
                            schedule.shardStart(rank, s + 1),
                            schedule.shardEnd(rank, s + 1),
                            params.numClasses());
                }
                phases[0][s] = (System.nanoTime() - ts) / 1e6f;
                int gb = schedule.globalBatch(s);
                boolean checked = params.checksumEvery() > 0 && (global + 1) % params.checksumEvery() == 0;
                step.keepReducedGradient(checked);
                double loss = step.run(batch, gb, epoch);
                if (!Double.isFinite(loss)) {
                    throw new IllegalStateException("loss became " + loss + " at epoch " + (epoch + 1) + " step " + s
                            + "; lower the learning rate or raise precision");
                }
                double[] ph = step.lastPhaseMillis();
                for (int k = 0; k < 3; k++) {
                    phases[k + 1][s] = (float) ph[k];
                }
                lossSum += loss;
                samples += gb;
                losses[(int) global] = (float) loss;
                millis[(int) global] = (System.nanoTime() - ts) / 1e6f;
                if (checked) {
                    check.reducedGradients(step.reducedChecksum(), step.reducedGradient(), "in step " + (global + 1));
                    check.parameters(net, "after step " + (global + 1));
                }
                if (listener != null) {
                    listener.onStep(rank, epoch, s, global, loss);
                }
                if (rank == 0) {
                    progress.step(epoch, s, steps, loss, samples / ((System.nanoTime() - t0) / 1e9));
                }
                if (s + 1 < steps) {
                    saveCheckpoint(net, global + 1, steps, losses, millis, epochs);
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            float[] ep = Arrays.copyOfRange(millis, (int) global - steps, (int) global);
            Arrays.sort(ep);
            double acc = eval == null ? Double.NaN : evaluate(net, eval);
            StepPhases median = logPhases(epoch, ep[ep.length / 2], phases, first, steps, net.device());
            if (StepLog.ON) {
                logEveryStep(
                        epoch,
                        phases,
                        Arrays.copyOfRange(millis, (int) global - steps, (int) global),
                        startedAt,
                        first);
            }
            EpochStats stats =
                    new EpochStats(epoch, steps, samples, lossSum / steps, seconds, acc, ep[ep.length / 2], median);
            epochs.add(stats);
            if (rank == 0) {
                progress.epoch(stats);
            }
            saveCheckpoint(net, global, steps, losses, millis, epochs);
        }
        long checksum = check.parameters(net, "after step " + global);
        return new Outcome(
                net.exportModel(),
                new TrainingHistory(comm.size(), List.copyOf(epochs), losses, millis),
                checksum,
                net.device());
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(WorkerLoop.class);

    /**
     * Each rank logs its median step and where the time went, to set beside the Replayer's prediction.
     *
     * @return the phases' medians, or null when the epoch had no step after the first
     */
    private StepPhases logPhases(int epoch, float medianStep, float[][] phases, int first, int steps, String device) {
        if (first >= steps) {
            return null;
        }
        float[] med = new float[phases.length];
        for (int k = 0; k < phases.length; k++) {
            float[] v = Arrays.copyOfRange(phases[k], first, steps);
            Arrays.sort(v);
            med[k] = v[v.length / 2];
        }
        double[] local = new double[steps - first];
        for (int i = 0; i < local.length; i++) {
            local[i] = phases[1][first + i];
        }
        double spread = 100 * Medians.relativeSpread(local); // robust sd, % of the median
        LOG.info(String.format(
                "qsync rank %d (%s) epoch %d: median step %.2f ms = batch %.2f + local gradient %.2f + exposed"
                        + " exchange %.2f + update %.2f ms (medians of each; %.2f ms besides); local gradient"
                        + " spread %.1f %% (1.4826 x its median absolute deviation)",
                comm.rank(),
                device,
                epoch + 1,
                medianStep,
                med[0],
                med[1],
                med[2],
                med[3],
                medianStep - med[0] - med[1] - med[2] - med[3],
                spread));
        return new StepPhases(med[0], med[1], med[2], med[3]);
    }

    /**
     * Diagnostics ({@code -Dqsync.logStepPhases=true}): every step's whole time and phases, one line each, to set the
     * ranks' steps side by side (which rank the others waited for, and when), and when each step started (seconds of
     * JVM uptime, as {@code -Xlog:gc::uptime} stamps pauses).
     */
    private void logEveryStep(int epoch, float[][] phases, float[] stepMillis, float[] startedAt, int first) {
        String[] names = {"step", "batch", "local gradient", "exposed exchange", "update"};
        for (int k = 0; k <= names.length; k++) {
            float[] v = k == 0 ? stepMillis : k == names.length ? startedAt : phases[k - 1];
            String b = StepLog.row(v, first, v.length, k == names.length ? "%.3f" : "%.2f");
            LOG.info(
                    "qsync rank {} epoch {} every step's {}: {}",
                    comm.rank(),
                    epoch + 1,
                    k == names.length ? "start s (JVM uptime)" : names[k] + " ms",
                    b);
        }
    }

    /**
     * The checkpoint every rank resumes from: the newest that rank 0 sees (null: none, or no store). Every rank loads
     * the one rank 0 names, so they all start from the same state.
     */
    private Checkpoint agreeOnCheckpoint(ShardSchedule schedule) {
        if (checkpoints == null) {
            return null;
        }
        long mine = comm.rank() == 0 ? checkpoints.latestStep() : -1;
        long step = ByteBuffer.wrap(
                        comm.allGather(ByteBuffer.allocate(8).putLong(mine).array())[0])
                .getLong();
        if (step < 0) {
            return null;
        }
        Checkpoint c = checkpoints.load(step);
        c.requireCompatible(comm.size(), schedule.steps());
        return c;
    }

    /** Rank 0 saves a checkpoint after {@code done} steps if one is due (not after the last step). */
    private void saveCheckpoint(
            TrainingEngine net, long done, int steps, float[] losses, float[] millis, List<EpochStats> epochs) {
        if (checkpoints == null || comm.rank() != 0 || done % checkpointEvery != 0 || done >= losses.length) {
            return;
        }
        checkpoints.save(new Checkpoint(
                done,
                comm.size(),
                steps,
                ModelSpec.of(net.exportModel()),
                Arrays.copyOf(losses, (int) done),
                Arrays.copyOf(millis, (int) done),
                List.copyOf(epochs)));
    }

    private long[] gatherCounts(long mine) {
        byte[][] all = comm.allGather(ByteBuffer.allocate(8).putLong(mine).array());
        long[] counts = new long[all.length];
        for (int i = 0; i < all.length; i++) {
            counts[i] = ByteBuffer.wrap(all[i]).getLong();
        }
        return counts;
    }

    /** Accuracy over the whole evaluation set; each worker scores a contiguous slice, counts are summed. */
    private double evaluate(TrainingEngine net, LocalShard eval) {
        int n = eval.count();
        int from = (int) ((long) comm.rank() * n / comm.size());
        int to = (int) ((long) (comm.rank() + 1) * n / comm.size());
        float correct = 0;
        for (int b = from; b < to; b += 1000) {
            int e = Math.min(to, b + 1000);
            HostBatch batch = eval.hostBatch(null, b, e, params.numClasses());
            float[] out = net.output(batch);
            int classes = out.length / batch.rows();
            for (int i = 0; i < batch.rows(); i++) {
                if (argMax(out, i * classes, classes) == eval.label(b + i)) {
                    correct++;
                }
            }
        }
        float[] buf = {correct};
        comm.allReduce(buf, ReduceOp.SUM);
        return buf[0] / n;
    }

    private static int argMax(float[] v, int from, int n) {
        int best = 0;
        for (int k = 1; k < n; k++) {
            if (v[from + k] > v[from + best]) {
                best = k;
            }
        }
        return best;
    }
}
