package io.qsync.spark;

import io.qsync.comm.Communicator;
import io.qsync.comm.TcpRingCommunicator;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.profile.ShardLikeBatches;
import io.qsync.runtime.Backends;
import io.qsync.runtime.EngineRequest;
import io.qsync.runtime.Medians;
import io.qsync.runtime.ProfilingSupport;
import io.qsync.runtime.SyncStep;
import io.qsync.runtime.TrainingEngine;
import io.qsync.spark.devices.SmSlicing;
import io.qsync.spark.devices.WorkerDevice;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.BarrierTaskContext;

/**
 * The probe stage's co-run (executor side): every rank trains a few synchronized steps of the job's network together,
 * on its own device and over the job's ring, in three configurations: uniform FP32, then uniform FP16, then uniform
 * INT8 on the GPUs (FP32 on CPUs, where emulated precisions are slower). A job without a GPU rank runs the first only.
 * Profiles are measured with one rank alone; the co-run shows what running side by side costs (workers sharing a card,
 * a host's CPUs and memory under the ring), and, with several configurations, how differently it slows compute-bound
 * FP32 work, INT8 work and memory-bound low-precision work. {@link CoRunCalibration} turns it into factors on the profiles.
 */
final class CoRunProbe {
    private CoRunProbe() {}

    /**
     * What one rank measured in the co-run (medians over the measured steps, milliseconds).
     *
     * @param precision the uniform precision it trained at
     * @param rows      rows per step
     * @param stepMs    whole step, batch assembly included
     * @param localMs   local gradient
     * @param exchangeMs exposed exchange
     * @param computeMs step less exposed exchange (what the profile's compute predicts)
     * @param jitter    the step-to-step spread of that compute: 1.4826 × its median absolute deviation (a standard
     *                  deviation, robust to the odd slow step), as a fraction of {@code computeMs}
     * @param computeSteps that compute step by step (the ranks' k-th steps are one synchronized step)
     * @param error     why it failed, or ""
     */
    record Result(
            Precision precision,
            int rows,
            double stepMs,
            double localMs,
            double exchangeMs,
            double computeMs,
            double jitter,
            double[] computeSteps,
            String error)
            implements Serializable {
        static Result failed(String why) {
            return new Result(
                    Precision.FP32, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, new double[0], why);
        }

        boolean ok() {
            return error.isEmpty();
        }
    }

    /**
     * The co-run's configurations for a worker, in order: FP32, then (when any rank trains on a GPU) FP16 and INT8 on a
     * GPU (close to the fast plans the planner weighs; INT8 work shares a card differently from FP16 work) or FP32
     * again on a CPU. Every rank runs as many as the others.
     *
     * @param gpu    whether this worker trains on a GPU
     * @param anyGpu whether any rank of the job does
     */
    static List<Precision> precisionsFor(boolean gpu, boolean anyGpu) {
        return anyGpu
                ? List.of(Precision.FP32, gpu ? Precision.FP16 : Precision.FP32, gpu ? Precision.INT8 : Precision.FP32)
                : List.of(Precision.FP32);
    }

    /**
     * Runs the co-run on this rank: joins the ring, trains {@code warmup + steps} steps per configuration, leaves.
     * Every rank must call it with the same number of configurations: the ring's setup gathers all ranks. A failure
     * before the ring is up fails the task (Spark then ends the barrier stage, so no peer waits in the gathering); one
     * after it closes the ring, so that the peers fail fast too, and is reported, not thrown (the profiles are then used
     * as measured alone).
     *
     * @return one result per configuration, or a single failed one
     */
    static List<Result> run(
            BarrierTaskContext ctx,
            ProbeStage.Request req,
            WorkerDevice device,
            String host,
            int threads,
            List<Precision> configurations,
            boolean gpu,
            int warmup,
            int steps)
            throws Exception {
        String backend = gpu ? req.params().backend() : "cpu";
        try (TcpRingCommunicator.Endpoint endpoint = TcpRingCommunicator.open(host, req.comm());
                AutoCloseable slice = SmSlicing.install(device, req.devices())) {
            Communicator comm =
                    JobCommunicators.connect(ctx, endpoint, host, device, backend, req.comm(), req.security(), "probe");
            try (comm;
                    TrainingEngine engine = Backends.select(backend)
                            .open(new EngineRequest(req.model(), null, device.ordinal(), threads, req.localBatch()))) {
                ProfilingSupport prof = engine.profiling().orElse(null);
                List<Result> out = new ArrayList<>();
                for (Precision wanted : configurations) {
                    Precision p = Precision.FP32;
                    if (prof != null) {
                        p = wanted;
                        Map<String, Precision> plan = new LinkedHashMap<>();
                        for (String id : prof.switchableLayers().keySet()) {
                            plan.put(id, p);
                        }
                        prof.applyPlan(new PrecisionPlan(plan));
                    }
                    out.add(measure(engine, comm, req, p, warmup, steps));
                }
                return List.copyOf(out);
            } catch (RuntimeException | LinkageError e) { // the ring is closed by now: peers reading from it fail fast
                return List.of(Result.failed("rank " + device.rank() + ": " + e));
            }
        }
    }

    private static Result measure(
            TrainingEngine engine, Communicator comm, ProbeStage.Request req, Precision p, int warmup, int steps) {
        double[] step = new double[steps];
        double[] local = new double[steps];
        double[] exchange = new double[steps];
        double[] compute = new double[steps];
        try (ShardLikeBatches batches = new ShardLikeBatches(req.batch());
                SyncStep sync = new SyncStep(engine, comm, req.params().bucketBytes())) {
            for (int i = 0; i < warmup + steps; i++) {
                long t0 = System.nanoTime();
                sync.run(batches.next(), req.globalBatch(), 0);
                double ms = (System.nanoTime() - t0) / 1e6;
                if (i >= warmup) {
                    double[] ph = sync.lastPhaseMillis();
                    int k = i - warmup;
                    step[k] = ms;
                    local[k] = ph[0];
                    exchange[k] = ph[1];
                    compute[k] = ms - ph[1];
                }
            }
        }
        return new Result(
                p,
                req.localBatch(),
                Medians.of(step),
                Medians.of(local),
                Medians.of(exchange),
                Medians.of(compute),
                Medians.relativeSpread(compute),
                compute,
                "");
    }
}
