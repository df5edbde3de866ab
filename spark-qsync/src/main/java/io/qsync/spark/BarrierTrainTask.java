package io.qsync.spark;

import io.qsync.comm.Communicator;
import io.qsync.comm.TcpRingCommunicator;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.runtime.LocalShard;
import io.qsync.runtime.ProgressSink;
import io.qsync.runtime.RuntimeParams;
import io.qsync.runtime.StepListener;
import io.qsync.runtime.WorkerLoop;
import io.qsync.spark.TrainJob.WorkerInputs;
import io.qsync.spark.devices.DeviceDiscovery;
import io.qsync.spark.devices.SmSlicing;
import io.qsync.spark.devices.WorkerDevice;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.BarrierTaskInfo;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import scala.collection.JavaConverters;
import scala.runtime.AbstractFunction1;

/**
 * The body of one barrier task: finds its device ({@link DeviceDiscovery}: Spark's GPU address, else the visible
 * devices, else the CPU), materializes the partition, joins the TCP ring (peers' addresses exchanged through
 * {@link BarrierTaskContext#allGather}), runs the {@link WorkerLoop}, and on rank 0 emits the encoded
 * {@link TrainedResult}. Any failure aborts the ring so that the other tasks fail promptly with its message; how the
 * task then ends (a failed result, or a rethrow that makes Spark retry the stage) is {@link FailurePolicy}'s call.
 */
final class BarrierTrainTask
        extends AbstractFunction1<scala.collection.Iterator<Row>, scala.collection.Iterator<byte[]>>
        implements Serializable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BarrierTrainTask.class);
    private static final long serialVersionUID = 1L;
    private final Broadcast<byte[]> inputs;

    BarrierTrainTask(Broadcast<byte[]> inputs) {
        this.inputs = inputs;
    }

    @Override
    public scala.collection.Iterator<byte[]> apply(scala.collection.Iterator<Row> rows) {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        WorkerInputs in = WorkerInputs.fromBytes(inputs.value());
        BarrierTaskInfo[] infos = ctx.getTaskInfos();
        int rank = ctx.partitionId();
        String host = hostOf(infos[rank].address());
        int threads = threadsFor(in.params(), infos, rank);
        WorkerDevice device = DeviceDiscovery.inTask(
                ctx, rank, infos.length, host, threads, in.params().backend(), in.devices());
        int planRank = planRank(device, in.plannedTypes());
        try (TcpRingCommunicator.Endpoint endpoint = TcpRingCommunicator.open(host, in.comm());
                AutoCloseable slice = SmSlicing.install(device, in.devices())) {
            try (Communicator comm = JobCommunicators.connect(
                            ctx,
                            endpoint,
                            host,
                            device,
                            in.devices().cpuRank(rank, infos.length)
                                    ? "cpu"
                                    : in.params().backend(),
                            in.comm(),
                            in.security(),
                            "stage");
                    ProgressSink progress = rank == 0 && in.progressAddress() != null
                            ? new SocketProgressSink(
                                    in.progressAddress(), 5000, in.security().progressKey())
                            : ProgressSink.NONE) {
                ctx.addTaskFailureListener((org.apache.spark.util.TaskFailureListener)
                        (c, error) -> comm.abort("task " + c.partitionId() + " failed: " + error));
                TrainedResult result;
                try {
                    result = train(ctx, in, comm, progress, rows, threads, host, device, planRank);
                } catch (RuntimeException | Error e) {
                    comm.abort("rank " + rank + " failed: " + e);
                    result = FailurePolicy.resultOrRethrow(rank, e);
                }
                return JavaConverters.asScalaIterator(List.of(result.toBytes()).iterator());
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) { // closing the SM slice
            throw new IllegalStateException("rank " + rank + ": " + e.getMessage(), e);
        }
    }

    /**
     * Plans are made for the device types the probe stage found, but Spark may place the training stage's tasks
     * differently: a worker on another planned type takes that type's precisions (its batch share stays its
     * partition's), one on an unplanned type keeps its rank's plan; both say so.
     *
     * @return the rank whose precision plan this worker uses
     */
    static int planRank(WorkerDevice device, List<String> planned) {
        LOG.info("qsync worker device: {}", device.describe());
        int rank = device.rank();
        if (planned.isEmpty() || planned.get(rank).equals(device.type())) {
            return rank;
        }
        int same = planned.indexOf(device.type());
        LOG.warn(
                "rank {} was planned for device type {} but runs on {} (Spark placed the training stage's tasks "
                        + "differently from the probe stage's): it trains with the precisions planned for {} and the "
                        + "batch share of its partition",
                rank,
                planned.get(rank),
                device.type(),
                same >= 0 ? device.type() : planned.get(rank) + " (its type is not in the plan)");
        return same >= 0 ? same : rank;
    }

    /** Materializes the partition (after joining the ring, so a failure here reaches the peers) and trains. */
    private static TrainedResult train(
            BarrierTaskContext ctx,
            WorkerInputs in,
            Communicator comm,
            ProgressSink progress,
            scala.collection.Iterator<Row> rows,
            int threads,
            String host,
            WorkerDevice device,
            int planRank) {
        RuntimeParams params = in.params();
        if (in.devices().cpuRank(device.rank(), comm.size())) {
            params = new RuntimeParams(
                    params.epochs(),
                    params.globalBatchSize(),
                    params.numClasses(),
                    params.shuffle(),
                    params.seed(),
                    params.checksumEvery(),
                    params.threadsPerWorker(),
                    "cpu");
        }
        int rank = comm.rank();
        LocalShard shard;
        try {
            shard = RowShards.read(
                    JavaConverters.asJavaIterator(rows), in.featuresCol(), in.labelCol(), params.numClasses());
        } catch (OutOfMemoryError e) {
            throw new WorkerOutOfMemoryError(rank, "reading its partition of the training data", e);
        }
        StepListener user = in.listener();
        PrecisionPlan plan =
                in.plans().isEmpty() ? null : PrecisionPlan.fromJson(in.plans().get(planRank));
        WorkerLog log = new WorkerLog(rank, comm.size(), host, shard.count(), plan, params.backend(), device.ordinal());
        StepListener listener = (r, e, s, g, loss) -> {
            ctx.killTaskIfInterrupted();
            log.step(e, s, g, loss);
            if (user != null) {
                user.onStep(r, e, s, g, loss);
            }
        };
        WorkerLoop loop = new WorkerLoop(comm, params, listener, progress);
        HadoopCheckpointStore checkpoints = in.faults().checkpoints();
        if (checkpoints != null) {
            loop = loop.checkpointing(checkpoints, in.faults().checkpointEvery());
        }
        WorkerLoop.Outcome out;
        try {
            out = loop.run(in.model(), plan, threads, device.ordinal(), shard, in.eval());
        } catch (OutOfMemoryError e) {
            throw new WorkerOutOfMemoryError(rank, "training on " + shard.count() + " rows", e);
        }
        log.done();
        long checksum = out.checksum();
        boolean graph = out.model() instanceof ComputationGraph;
        if (rank != 0) {
            return new TrainedResult(rank, checksum, null, graph, out.history()); // its phases, for measured.json
        }
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try {
            ModelSerializer.writeModel(out.model(), bos, true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new TrainedResult(rank, checksum, bos.toByteArray(), graph, out.history());
    }

    static String hostOf(String address) {
        int c = address.lastIndexOf(':');
        return c > 0 ? address.substring(0, c) : address;
    }

    /** Host threads: as configured, or this JVM's cores shared by the workers placed in this executor. */
    static int threadsFor(RuntimeParams params, BarrierTaskInfo[] infos, int rank) {
        int threads = params.threadsPerWorker();
        if (threads == 0) {
            Map<String, Integer> perHost = new HashMap<>();
            for (BarrierTaskInfo i : infos) {
                perHost.merge(i.address(), 1, Integer::sum);
            }
            threads = Math.max(1, Runtime.getRuntime().availableProcessors() / perHost.get(infos[rank].address()));
        }
        return threads;
    }
}
