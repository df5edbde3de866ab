package io.qsync.runtime;

import io.qsync.comm.CommException;
import io.qsync.comm.Communicator;
import io.qsync.comm.ReduceOp;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One synchronous data-parallel step: local forward/backward on this worker's shard, an all-reduce (sum) of the
 * per-example-summed gradients of all shards, and the same updater step on every replica with the global batch size
 * as divisor. The result equals one DL4J {@code fit} on the concatenated global batch, and since the all-reduce gives
 * bitwise-identical sums everywhere, replicas stay bitwise identical, whatever backend each worker's
 * {@link TrainingEngine} runs on.
 *
 * <p>The gradient is all-reduced in buckets that overlap the backward pass, as PyTorch DDP does: the flat gradient is
 * cut from its end into buckets of {@code bucketBytes} (the last one, at the start of the vector, takes the rest), the
 * same cut on every worker whatever its backend; as soon as the engine reports that a bucket is final
 * ({@link TrainingEngine#computeGradient(HostBatch, java.util.function.LongConsumer)}; DL4J's backward finishes the
 * gradient from the end), its all-reduce starts on this step's communication thread while the backward goes on. The
 * bucket at the start of the vector waits for the end of the backward and carries the loss as one extra float (no
 * collective of its own) and, like every bucket not yet started when the backward ends, is reduced on the calling
 * thread once the buckets in flight are done (nothing is left to overlap with); the updater follows. Each element is reduced in the
 * ring's fixed order whatever the bucketing, so replicas stay bitwise identical. {@code bucketBytes == 0}: one
 * collective after the backward (no overlap).
 */
public final class SyncStep implements AutoCloseable {
    /** PyTorch DDP's default bucket size: 25 MiB. */
    public static final long DEFAULT_BUCKET_BYTES = 25L << 20;

    private final TrainingEngine engine;
    private final Communicator comm;
    private final long bucketFloats;
    private final FloatBuffer loss = ByteBuffer.allocateDirect(Float.BYTES)
            .order(ByteOrder.nativeOrder())
            .asFloatBuffer();
    private final Deque<Future<?>> inFlight = new ArrayDeque<>();
    private ExecutorService commThread;
    private FloatBuffer grad;
    private long next;
    private float weight;
    private int buckets;
    private long computeNanos;
    private long exchangeNanos;
    private long updateNanos;
    private boolean keepReduced;
    private long reducedChecksum = -1;
    private FloatBuffer reduced;

    /** Binds an engine and a communicator, with {@value #DEFAULT_BUCKET_BYTES}-byte buckets. */
    public SyncStep(TrainingEngine engine, Communicator comm) {
        this(engine, comm, DEFAULT_BUCKET_BYTES);
    }

    /**
     * @param bucketBytes gradient bytes per overlapped all-reduce ({@code spark.qsync.comm.bucketBytes}); 0: no overlap
     */
    public SyncStep(TrainingEngine engine, Communicator comm, long bucketBytes) {
        if (bucketBytes < 0) {
            throw new IllegalArgumentException(
                    "spark.qsync.comm.bucketBytes must be >= 0 (0 = no overlap), got " + bucketBytes);
        }
        this.engine = engine;
        this.comm = comm;
        this.bucketFloats = bucketBytes == 0 ? Long.MAX_VALUE : Math.max(1, bucketBytes / Float.BYTES);
    }

    /**
     * Runs the step.
     *
     * @param shard       this worker's rows of the global batch (non-empty)
     * @param globalBatch rows in the global batch (sum of all shards)
     * @param epoch       current epoch (for schedules)
     * @return the global batch's mean loss
     */
    public double run(HostBatch shard, int globalBatch, int epoch) {
        int local = shard.rows();
        long t0 = System.nanoTime();
        exchangeNanos = 0;
        if (comm.size() == 1) {
            double score = engine.computeGradient(shard);
            long t1 = System.nanoTime();
            engine.applyLocalUpdate(globalBatch, epoch); // one worker: the gradient is the engine's own
            computeNanos = t1 - t0;
            updateNanos = System.nanoTime() - t1;
            return score;
        }
        // batch-norm running statistics are state updates, not summed gradients: average them by shard weight
        weight = (float) ((double) local / globalBatch);
        next = engine.numParams();
        grad = null;
        buckets = 0;
        try {
            double score = engine.computeGradient(shard, this::readyFrom);
            long t1 = System.nanoTime();
            computeNanos = t1 - t0;
            grad = engine.gradient();
            loss.put(0, (float) (score * local / globalBatch));
            while (!inFlight.isEmpty()) {
                await(inFlight.removeFirst());
            }
            // nothing is left to overlap with: the remaining buckets run on this thread (no hand-over), in order
            while (next > 0 || buckets == 0) {
                long from = Math.max(0, next - bucketFloats);
                comm.allReduce(parts(from, next), ReduceOp.SUM);
                next = from;
                buckets++;
            }
            long t2 = System.nanoTime();
            exchangeNanos = t2 - t1;
            if (keepReduced) {
                recordReduced(grad.duplicate().clear().limit((int) engine.numParams()));
            }
            long t3 = System.nanoTime();
            engine.applyUpdate(globalBatch, epoch);
            updateNanos = System.nanoTime() - t3;
            return loss.get(0);
        } finally {
            inFlight.forEach(f -> f.cancel(false)); // after a failure: drop queued buckets (the ring is aborted)
            inFlight.clear();
            grad = null;
        }
    }

    /**
     * Whether the next steps keep a copy of the all-reduced gradient and loss before the update
     * ({@link #reducedGradient()}), for the replica check.
     */
    public void keepReducedGradient(boolean keep) {
        keepReduced = keep;
        reducedChecksum = -1;
        reduced = null;
    }

    /** The checksum of the gradient and always, a copy only for networks small enough to gather for a diagnosis. */
    private void recordReduced(FloatBuffer gradient) {
        FloatBuffer lossView = loss.duplicate().clear();
        reducedChecksum = Nd4jBuffers.checksum(gradient, lossView);
        if (gradient.remaining() + 1L <= ReplicaCheck.DIAGNOSE_FLOATS) {
            reduced = FloatBuffer.allocate(gradient.remaining() + 1);
            reduced.put(gradient).put(lossView).flip();
        }
    }

    /**
     * CRC32 of the all-reduced gradient and loss of the last step, if {@link #keepReducedGradient} asked for it; else
     * -1.
     */
    public long reducedChecksum() {
        return reducedChecksum;
    }

    /**
     * A copy of the all-reduced gradient and loss of the last step, if {@link #keepReducedGradient} asked for it and
     * the network is small enough to gather for a diagnosis; else null.
     */
    public FloatBuffer reducedGradient() {
        return reduced == null ? null : reduced.duplicate();
    }

    /**
     * Where the last step's time went, in milliseconds on the calling thread: {@code [0]} the local forward and
     * backward (with the buckets launched during it), {@code [1]} the exposed gradient exchange (waiting for the
     * buckets in flight and reducing the rest), {@code [2]} the update.
     */
    public double[] lastPhaseMillis() {
        return new double[] {computeNanos / 1e6, exchangeNanos / 1e6, updateNanos / 1e6};
    }

    /** Buckets (collectives) of the last step, for tests and diagnostics. */
    public int lastBuckets() {
        return buckets;
    }

    /** The engine's report: launches every full bucket now final, except the first one of the vector (the loss). */
    private void readyFrom(long k) {
        while (next - bucketFloats > 0 && next - bucketFloats >= k) {
            if (grad == null) {
                grad = engine.gradient();
            }
            launch(next - bucketFloats, next);
        }
    }

    private void launch(long from, long to) {
        FloatBuffer[] parts = parts(from, to);
        if (commThread == null) {
            commThread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "qsync-allreduce-rank-" + comm.rank());
                t.setDaemon(true);
                return t;
            });
        }
        inFlight.addLast(commThread.submit(() -> comm.allReduce(parts, ReduceOp.SUM)));
        next = from;
        buckets++;
    }

    /** The bucket {@code [from, to)} (state-update ranges scaled), with the loss when it starts the vector. */
    private FloatBuffer[] parts(long from, long to) {
        for (long[] r : engine.nonAveragedRanges()) {
            for (long i = Math.max(r[0], from); i < Math.min(r[1], to); i++) {
                grad.put((int) i, grad.get((int) i) * weight);
            }
        }
        FloatBuffer part = grad.slice((int) from, (int) (to - from));
        return from == 0 ? new FloatBuffer[] {part, loss} : new FloatBuffer[] {part};
    }

    private static void await(Future<?> f) {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommException("interrupted while waiting for a gradient bucket's all-reduce", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw (Error) e.getCause();
        }
    }

    /** Stops the communication thread. Idempotent. */
    @Override
    public void close() {
        if (commThread != null) {
            commThread.shutdownNow();
        }
    }
}
