package io.qsync.spark;

import io.qsync.lowprec.Precision;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.indicator.Indicators;
import io.qsync.profile.Profiler;
import io.qsync.runtime.Backends;
import io.qsync.runtime.EngineRequest;
import io.qsync.runtime.HostBatch;
import io.qsync.runtime.LocalShard;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.RuntimeParams;
import io.qsync.runtime.TrainingEngine;
import io.qsync.spark.devices.DeviceDiscovery;
import io.qsync.spark.devices.DiscoveryOptions;
import io.qsync.spark.devices.GpuStageResources;
import io.qsync.spark.devices.SmSlicing;
import io.qsync.spark.devices.WorkerDevice;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.IntStream;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import scala.collection.JavaConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * The short barrier stage {@code spark.qsync.plan=auto} runs before training: as many tasks as workers, each finds its
 * device ({@link DeviceDiscovery}), the tasks exchange their device types ({@code allGather}), and the lowest rank of
 * every type that has no measured profile profiles it ({@link Profiler}: real training steps of the job's network on
 * that worker's backend, every switchable layer at every precision of the device's menu, on a batch of the job's rows).
 */
final class ProbeStage {
    /** Unmeasured steps of the co-run (the first replays record their graphs). */
    static final int CO_RUN_WARMUP = 3;

    /** Held while a task of this JVM profiles its device. */
    private static final Object PROFILING = new Object();

    private ProbeStage() {}

    /**
     * What every probe task receives.
     *
     * @param model        the network with precision-switchable layers
     * @param sample       the job's first rows (the profiling batch is the first {@code localBatch} of them)
     * @param localBatch   examples per worker step
     * @param globalBatch  the job's global batch
     * @param knownTypes   device types (lower case) that have a measured profile already
     * @param profileSteps measured steps per calibration plan
     * @param params       the job's runtime parameters (backend, threads)
     * @param devices      discovery overrides
     * @param comm         the job's ring settings (the co-run trains over the ring training will use)
     * @param security     the job's ring authentication
     * @param coRunSteps   measured steps of the co-run of all ranks ({@link CoRunProbe}); 0: none
     */
    record Request(
            ModelSpec model,
            LocalShard sample,
            int localBatch,
            int globalBatch,
            Set<String> knownTypes,
            int profileSteps,
            RuntimeParams params,
            DiscoveryOptions devices,
            io.qsync.comm.CommConfig comm,
            JobSecurity security,
            int coRunSteps)
            implements Serializable {
        /** @return the profiling batch */
        HostBatch batch() {
            return sample.hostBatch(null, 0, localBatch, params.numClasses());
        }

        /**
         * @return the whole global batch (or as much of it as the sample holds) when that is larger than the local
         *     one: a GPU type is profiled at both sizes, for the planner's options that give one worker more rows
         *     (a worker alone, a rebalanced batch); null if not larger
         */
        HostBatch largerBatch() {
            int rows = Math.min(globalBatch, sample.count());
            return rows > localBatch ? sample.hostBatch(null, 0, rows, params.numClasses()) : null;
        }
    }

    /**
     * What one task found.
     *
     * @param device       its device
     * @param profileJson  the profile it measured for its type, or null
     * @param profileError why measuring failed, or ""
     * @param coRun        what it measured in each configuration of the co-run of all ranks (a single failed result
     *                     when it failed); empty when none ran
     */
    record Probed(WorkerDevice device, String profileJson, String profileError, List<CoRunProbe.Result> coRun)
            implements Serializable {
        /** Copies the co-run's results. */
        Probed {
            coRun = coRun == null ? List.of() : List.copyOf(coRun);
        }
    }

    /** Runs the probe stage on {@code numWorkers} barrier tasks; results by rank. */
    static List<Probed> run(SparkContext sc, int numWorkers, Request request) {
        ClassTag<byte[]> tag = ClassTag$.MODULE$.apply(byte[].class);
        Broadcast<byte[]> b = sc.broadcast(toBytes(request), tag);
        try {
            sc.setJobDescription("qsync: probe devices of " + numWorkers + " workers");
            JavaRDD<Integer> ranks = JavaSparkContext.fromSparkContext(sc)
                    .parallelize(IntStream.range(0, numWorkers).boxed().toList(), numWorkers);
            RDD<byte[]> probed =
                    GpuStageResources.apply(ranks.rdd().barrier().mapPartitions(new Task(b), false, tag), sc);
            List<Probed> out = new ArrayList<>();
            for (byte[] bytes : JavaRDD.fromRDD(probed, tag).collect()) {
                out.add((Probed) fromBytes(bytes));
            }
            out.sort(Comparator.comparingInt(p -> p.device().rank()));
            return out;
        } finally {
            b.destroy();
        }
    }

    /** One probe task. */
    private static final class Task
            extends AbstractFunction1<scala.collection.Iterator<Integer>, scala.collection.Iterator<byte[]>>
            implements Serializable {
        private static final long serialVersionUID = 1L;
        private final Broadcast<byte[]> request;

        Task(Broadcast<byte[]> request) {
            this.request = request;
        }

        @Override
        public scala.collection.Iterator<byte[]> apply(scala.collection.Iterator<Integer> ignored) {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            Request req = (Request) fromBytes(request.value());
            int rank = ctx.partitionId();
            int n = ctx.getTaskInfos().length;
            String host = BarrierTrainTask.hostOf(ctx.getTaskInfos()[rank].address());
            int threads = BarrierTrainTask.threadsFor(req.params(), ctx.getTaskInfos(), rank);
            WorkerDevice device = DeviceDiscovery.inTask(
                    ctx, rank, n, host, threads, req.params().backend(), req.devices());
            List<WorkerDevice> all = new ArrayList<>();
            for (String json : ctx.allGather(device.toJson())) {
                all.add(WorkerDevice.fromJson(json));
            }
            boolean first =
                    all.stream().filter(d -> d.type().equals(device.type())).allMatch(d -> d.rank() >= rank);
            String profile = null;
            String error = "";
            if (first && !req.knownTypes().contains(device.type().toLowerCase(Locale.ROOT))) {
                try {
                    synchronized (PROFILING) { // the layer clock is per JVM: workers sharing an executor take turns
                        profile = profile(req, device, threads, n).toJson();
                    }
                } catch (RuntimeException | LinkageError e) {
                    error = e.toString();
                }
            }
            List<CoRunProbe.Result> coRun = List.of();
            if (n > 1 && req.coRunSteps() > 0) { // every rank joins: the ring's setup gathers them all
                boolean gpu = trainsOnGpu(req, device, n);
                boolean anyGpu = all.stream().anyMatch(d -> trainsOnGpu(req, d, n));
                try {
                    coRun = CoRunProbe.run(
                            ctx,
                            req,
                            device,
                            host,
                            threads,
                            CoRunProbe.precisionsFor(gpu, anyGpu),
                            gpu,
                            CO_RUN_WARMUP,
                            req.coRunSteps());
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) { // closing the SM slice or the endpoint
                    throw new IllegalStateException("rank " + rank + ": co-run: " + e.getMessage(), e);
                }
            }
            byte[] out = toBytes(new Probed(device, profile, error, coRun));
            return JavaConverters.asScalaIterator(List.of(out).iterator());
        }
    }

    /** Whether the rank on {@code device} trains on its GPU (a GPU not made a CPU worker by the device settings). */
    private static boolean trainsOnGpu(Request req, WorkerDevice device, int workers) {
        return device.isGpu() && !req.devices().cpuRank(device.rank(), workers);
    }

    /** Measures the device's profile under its type name with the backend the worker will train on. */
    private static DeviceProfile profile(Request req, WorkerDevice device, int threads, int workers) {
        boolean gpu = trainsOnGpu(req, device, workers);
        String backend = gpu ? req.params().backend() : "cpu";
        List<Precision> menu = new ArrayList<>(Indicators.ALL_PRECISIONS);
        if (gpu && Double.parseDouble(device.capability()) < 8.9) {
            menu.remove(Precision.FP8_E4M3);
        }
        HostBatch batch = req.batch();
        // a GPU's step time grows slower than its batch: measure it at the global batch too (CPUs scale in proportion)
        HostBatch larger = gpu ? req.largerBatch() : null;
        if (larger != null) {
            try {
                return measure(req, device, threads, workers, backend, menu, List.of(batch, larger));
            } catch (RuntimeException e) { // e.g. the larger batch does not fit the device: the local one alone
                org.slf4j.LoggerFactory.getLogger(ProbeStage.class)
                        .warn(
                                "rank {}: profiling at {} rows failed ({}); profiling at the local batch of {} only",
                                device.rank(),
                                larger.rows(),
                                e.toString(),
                                batch.rows());
            }
        }
        return measure(req, device, threads, workers, backend, menu, List.of(batch));
    }

    private static DeviceProfile measure(
            Request req,
            WorkerDevice device,
            int threads,
            int workers,
            String backend,
            List<Precision> menu,
            List<HostBatch> batches) {
        int maxRows = batches.get(batches.size() - 1).rows();
        EngineRequest er = new EngineRequest(req.model(), null, device.ordinal(), threads, maxRows);
        try (AutoCloseable slice = SmSlicing.install(device, req.devices()); // profile the slice it trains on
                TrainingEngine engine = Backends.select(backend).open(er)) {
            return new Profiler(2, req.profileSteps())
                    .profile(
                            device.type(),
                            engine,
                            PlanGraphs.of(req.model().restore()),
                            batches,
                            menu,
                            req.globalBatch(),
                            workers);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) { // closing the SM slice
            throw new IllegalStateException("rank " + device.rank() + ": " + e.getMessage(), e);
        }
    }

    static byte[] toBytes(Serializable o) {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (ObjectOutputStream oos = new ObjectOutputStream(bos)) {
            oos.writeObject(o);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot serialize the probe's " + o.getClass().getSimpleName(), e);
        }
        return bos.toByteArray();
    }

    static Object fromBytes(byte[] bytes) {
        try (ObjectInputStream ois = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
            return ois.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("cannot decode a probe message", e);
        }
    }
}
