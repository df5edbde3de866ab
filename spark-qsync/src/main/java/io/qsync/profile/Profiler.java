package io.qsync.profile;

import io.qsync.comm.CommConfig;
import io.qsync.comm.ReduceOp;
import io.qsync.comm.TcpRingCommunicator;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.cost.Interconnect;
import io.qsync.planner.cost.LinearCost;
import io.qsync.planner.cost.StepCalibration;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.runtime.HostBatch;
import io.qsync.runtime.LayerClock;
import io.qsync.runtime.Medians;
import io.qsync.runtime.ProfilingSupport;
import io.qsync.runtime.TrainingEngine;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.bytedeco.javacpp.Pointer;

/**
 * Measures a {@link DeviceProfile} of the device a {@link TrainingEngine} trains on, for one network and batch size,
 * in the execution context of training: whole steps ({@code computeGradient} + {@code applyUpdate}) of the engine,
 * with its backend's per-layer clock on ({@link ProfilingSupport}: the switchable layers' timing hook on the CPU,
 * device events on a GPU), so every backend profiles itself the same way. It runs one calibration plan per menu entry
 * (rotations: switchable layer {@code j} at {@code menu[(j+k) mod m]}, so every layer meets every precision),
 * takes the per-layer medians and fits the remainder and scale by least squares over the whole-step medians
 * ({@link StepCalibration}); the loopback ring all-reduce {@code α + β·bytes} is measured with two in-process ranks
 * and added to the remainder. Call with the native thread count the trainer will use.
 */
public final class Profiler {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Profiler.class);
    private final int warmup;
    private final int repeats;

    /**
     * @param warmup  unmeasured steps per calibration plan
     * @param repeats measured steps per calibration plan (median taken)
     */
    public Profiler(int warmup, int repeats) {
        if (warmup < 0 || repeats < 1) {
            throw new IllegalArgumentException(
                    "Profiler needs warmup >= 0 and repeats >= 1, got " + warmup + ", " + repeats);
        }
        this.warmup = warmup;
        this.repeats = repeats;
    }

    /**
     * @param name        profile name
     * @param engine      an engine of the network (trained by the measurement: open one for profiling only)
     * @param graph       its plan graph
     * @param batch       examples of the local step
     * @param menu        precisions to measure
     * @param globalBatch global batch (the updater divides by it)
     * @param workers     ring size of the training the profile is for (for the all-reduce share)
     * @return the measured profile
     * @throws IllegalArgumentException if the engine's backend cannot switch precisions or time layers
     */
    public DeviceProfile profile(
            String name,
            TrainingEngine engine,
            LayerGraph graph,
            HostBatch batch,
            List<Precision> menu,
            int globalBatch,
            int workers) {
        return profile(name, engine, graph, List.of(batch), menu, globalBatch, workers);
    }

    /**
     * As {@link #profile(String, TrainingEngine, LayerGraph, HostBatch, List, int, int)}, measured at several batch
     * sizes (the engine must hold the largest): the first is the local step the link and context are measured for,
     * the others add layer times and step overheads at their sizes, so that the cost model interpolates between them
     * (a GPU's step grows slower than its batch: a profile at one size over-predicts a larger one, as when the planner
     * weighs a worker alone or a rebalanced batch).
     *
     * @param batches batches of distinct sizes, the local step first
     */
    public DeviceProfile profile(
            String name,
            TrainingEngine engine,
            LayerGraph graph,
            List<HostBatch> batches,
            List<Precision> menu,
            int globalBatch,
            int workers) {
        long context = contextBytes(engine);
        ProfilingSupport prof = engine.profiling()
                .orElseThrow(() -> new IllegalArgumentException("the " + engine.backendName()
                        + " backend cannot profile a device (no per-layer clock); profile with --backend cpu"));
        List<Precision> runs = runnable(prof::whyCannotRun, menu);
        HostBatch batch = batches.get(0);
        StepCalibration cal = calibrate(engine, prof, graph, batch, runs, globalBatch);
        Interconnect link = measureLoopback(4L * graph.totalParams(), warmup, repeats);
        DeviceProfile measured = toProfile(name, engine, prof, graph, cal, batch, runs, link, workers);
        for (HostBatch other : batches.subList(1, batches.size())) {
            StepCalibration more = calibrate(engine, prof, graph, other, runs, globalBatch);
            measured = measured.withMeasurementsOf(
                    toProfile(name, engine, prof, graph, more, other, runs, link, workers),
                    "also at batch " + other.rows());
        }
        // a device's context (driver, libraries) is not this process' resident memory: its documented default stays
        return prof.deviceMemoryBytes() > 0 ? measured : measured.withContextBytes(context);
    }

    /**
     * The menu without the precisions the device cannot run ({@code why} gives the reason, null where it can), each
     * left out with a warning: a T4's profile has no FP8, TF32 or BF16 in its menu, so no plan asks for them.
     *
     * @throws IllegalArgumentException when FP32 is not left
     */
    static List<Precision> runnable(java.util.function.Function<Precision, String> why, List<Precision> menu) {
        List<Precision> out = new ArrayList<>();
        for (Precision p : menu) {
            String reason = why.apply(p);
            if (reason == null) {
                out.add(p);
            } else {
                LOG.warn("{} left out of the profile's precision menu: {}", p, reason);
            }
        }
        if (!out.contains(Precision.FP32)) {
            throw new IllegalArgumentException("the precision menu " + menu + " has no FP32 this device can run");
        }
        return List.copyOf(out);
    }

    /** Runs one calibration plan per menu entry at {@code batch}. */
    private StepCalibration calibrate(
            TrainingEngine engine,
            ProfilingSupport prof,
            LayerGraph graph,
            HostBatch batch,
            List<Precision> menu,
            int globalBatch) {
        Map<String, Integer> index = prof.switchableLayers();
        List<String> ids = new ArrayList<>(index.keySet());
        StepCalibration cal = new StepCalibration(graph, index, batch.rows());
        try (ShardLikeBatches rows = new ShardLikeBatches(batch)) {
            for (Map<String, Precision> plan : calibrationPlans(ids, menu, prof.clockChangesSteps())) {
                prof.applyPlan(new PrecisionPlan(plan));
                // whole steps as training runs them: without the clock where it changes how steps run (a replay)
                double unclocked = prof.clockChangesSteps() ? Medians.of(steps(engine, rows, globalBatch)) : Double.NaN;
                try (LayerClock clock = prof.startLayerClock(warmup)) {
                    double clocked = Medians.of(steps(engine, rows, globalBatch));
                    cal.addRun(List.of(plan), Double.isNaN(unclocked) ? clocked : unclocked, clock);
                }
            }
        }
        return cal;
    }

    /**
     * The calibration plans: the rotations (switchable layer {@code j} at {@code menu[(j+k) mod m]}, every layer meets
     * every precision), and where the layer clock changes how steps run (a replayed graph timed eagerly) also every
     * precision uniformly: the clocked layer costs then need a scale κ besides the remainder, and mixed rotations
     * alone have too similar layer sums to tell the two apart.
     */
    static List<Map<String, Precision>> calibrationPlans(List<String> ids, List<Precision> menu, boolean uniformToo) {
        List<Map<String, Precision>> plans = new ArrayList<>();
        for (int k = 0; k < menu.size(); k++) {
            Map<String, Precision> plan = new LinkedHashMap<>();
            for (int j = 0; j < ids.size(); j++) {
                plan.put(ids.get(j), menu.get((j + k) % menu.size()));
            }
            plans.add(plan);
        }
        if (uniformToo && menu.size() > 1) {
            for (Precision p : menu) {
                Map<String, Precision> plan = new LinkedHashMap<>();
                ids.forEach(id -> plan.put(id, p));
                plans.add(plan);
            }
        }
        return plans;
    }

    /**
     * Runs {@code warmup + repeats} training steps; the measured steps' seconds. Each step starts, as a training step
     * does, by gathering its batch's rows in a shuffled order from a shard larger than the caches.
     */
    private double[] steps(TrainingEngine engine, ShardLikeBatches batches, int globalBatch) {
        double[] t = new double[repeats];
        for (int i = 0; i < warmup + repeats; i++) {
            long t0 = System.nanoTime();
            HostBatch b = batches.next();
            engine.computeGradient(b);
            engine.applyUpdate(globalBatch, 0);
            if (i >= warmup) {
                t[i - warmup] = (System.nanoTime() - t0) / 1e9;
            }
        }
        return t;
    }

    private DeviceProfile toProfile(
            String name,
            TrainingEngine engine,
            ProfilingSupport prof,
            LayerGraph graph,
            StepCalibration cal,
            HostBatch batch,
            List<Precision> menu,
            Interconnect link,
            int workers) {
        // where the clock changes how steps run, the clocked layer costs and the unclocked steps differ by a scale too
        StepCalibration.Fit fit = cal.fit(prof.clockChangesSteps());
        double collective =
                link.ringAllReduceSeconds(4.0 * graph.totalParams(), workers) + link.ringAllReduceSeconds(4.0, workers);
        StepCalibration.Fit withComm = new StepCalibration.Fit(
                fit.kappa(), fit.remainderSeconds() + collective, fit.rmsRelativeError(), fit.runs());
        return cal.toProfile(
                name,
                "Profiler on " + engine.device() + ", " + System.getProperty("os.arch") + ", "
                        + Runtime.getRuntime().availableProcessors() + " cores, batch " + batch.rows()
                        + ", in-step layer timing, context measured",
                withComm,
                menu,
                prof.deviceMemoryBytes() > 0 ? prof.deviceMemoryBytes() : memoryLimit(),
                link,
                workers);
    }

    /**
     * The process' context term, measured: its resident bytes (JVM, native libraries, heap in use, native pools) before
     * the profiled training starts, less the engine's own parameter and updater-state arrays, which the memory model
     * counts.
     *
     * @param engine the engine about to be profiled
     * @return bytes the model cannot use, at least 0
     */
    public static long contextBytes(TrainingEngine engine) {
        long own = 4L * (engine.numParams() + engine.updaterStateLength());
        return Math.max(0, Pointer.physicalBytes() - own);
    }

    /** @return the memory this process may use: JavaCPP's physical-bytes cap if set, else the JVM's max heap */
    private static long memoryLimit() {
        long cap = Pointer.maxPhysicalBytes();
        return cap > 0 ? cap : Runtime.getRuntime().maxMemory();
    }

    /**
     * Two ranks over loopback TCP in this process; fits {@code T(bytes) = a + b·bytes} = 2·latency + bytes/bw.
     *
     * @param gradientBytes gradient size of the model (sizes up to it are measured)
     * @param warmup        unmeasured all-reduces per size
     * @param repeats       measured all-reduces per size (median)
     * @return the link
     */
    public static Interconnect measureLoopback(long gradientBytes, int warmup, int repeats) {
        CommConfig cfg = CommConfig.defaults();
        try (TcpRingCommunicator.Endpoint e0 = TcpRingCommunicator.open("127.0.0.1", cfg);
                TcpRingCommunicator.Endpoint e1 = TcpRingCommunicator.open("127.0.0.1", cfg)) {
            List<String> peers = List.of(e0.address(), e1.address());
            CompletableFuture<TcpRingCommunicator> f1 =
                    CompletableFuture.supplyAsync(() -> e1.connect(1, peers, "prof"));
            try (TcpRingCommunicator c0 = e0.connect(0, peers, "prof");
                    TcpRingCommunicator c1 = f1.join()) {
                return fitLoopback(c0, c1, gradientBytes, warmup, repeats);
            } finally {
                // a failed rank 0 connect leaves rank 1's future waiting: it ends with its connect timeout, then closes
                f1.thenAccept(TcpRingCommunicator::close);
            }
        }
    }

    private static Interconnect fitLoopback(
            TcpRingCommunicator c0, TcpRingCommunicator c1, long gradientBytes, int warmup, int repeats) {
        if (repeats < 1) {
            throw new IllegalArgumentException("timing the link needs repeats >= 1, got " + repeats);
        }
        // up to the gradient: training never all-reduces more at once (buckets cut it smaller), and a point beyond it
        // pulls the line off the size that sets the step (with a 4x point, the H100 host's in-job link predicted 4.6 ms
        // for a 9.4 MB exchange that took 3.6 ms in training)
        long[] sizes = {4, 1 << 14, Math.max(1 << 15, gradientBytes / 2), Math.max(1 << 16, gradientBytes)};
        double[] x = new double[sizes.length];
        double[] y = new double[sizes.length];
        // as training sends them: off-heap gradient buffers (a heap buffer costs the ring a staging copy), after
        // enough rounds for the ring's code to be compiled (the first rounds of a JVM run 2-3x slower)
        int warm = Math.max(warmup, LINK_WARMUP);
        // a median of 5 rounds moved the H100 host's in-job link by up to 40 % from job to job, while training's
        // exchange
        // of the same bytes stayed within 5 %: the link is cheap to time, so take many rounds
        int reps = Math.max(repeats, LINK_REPEATS);
        for (int k = 0; k < sizes.length; k++) {
            int n = (int) Math.max(1, sizes[k] / 4);
            FloatBuffer a = direct(n);
            FloatBuffer b = direct(n);
            x[k] = 4.0 * n;
            double[] t = new double[warm + reps];
            for (int i = 0; i < t.length; i++) {
                CompletableFuture<Void> other = CompletableFuture.runAsync(() -> c1.allReduce(b, ReduceOp.SUM));
                long t0 = System.nanoTime();
                c0.allReduce(a, ReduceOp.SUM);
                t[i] = (System.nanoTime() - t0) / 1e9;
                other.join();
            }
            y[k] = Medians.of(Arrays.copyOfRange(t, warm, t.length));
        }
        LinearCost fit = LinearCost.fit(x, y);
        List<Interconnect.WaitPoint> curve = waitCurve(c0, c1, (int) (x[x.length - 1] / 4), reps);
        return new Interconnect(
                "loopback TCP ring (measured)",
                1 / Math.max(fit.alpha(), 1e-12),
                Math.max(0, fit.beta() / 2),
                curve.get(curve.size() - 1).factor(),
                curve);
    }

    /**
     * The lags (ms) at which the late rank's all-reduce is timed: from a near-balanced hybrid step (a rank a
     * millisecond or two behind) to a weak worker far behind.
     */
    static final double[] WAIT_LAGS_MILLIS = {0.5, 1, 2, 5, 20};

    /**
     * The late rank's all-reduce of {@code n} floats when it arrives a lag after its peer entered the collective,
     * over a simultaneous start's, at each of {@link #WAIT_LAGS_MILLIS}. The late rank sleeps through its lag: on the
     * H100 host, a lag spent spinning left the late rank's all-reduce as fast as a simultaneous start (x0.91-1.12 at
     * 0.5-20 ms), while training's late rank took 1.25-1.7x that, as a sleeping one did in the earlier measurement (x1.35
     * on the machine where training's penalty was smallest, x1.65-1.86 where it was largest). Rounds interleave the
     * simultaneous
     * and the lagged all-reduces, so that drift (the other rank's profiling, compilation) moves both alike; each
     * factor is a ratio of medians.
     */
    private static List<Interconnect.WaitPoint> waitCurve(
            TcpRingCommunicator c0, TcpRingCommunicator c1, int n, int repeats) {
        FloatBuffer a = direct(n);
        FloatBuffer b = direct(n);
        int reps = Math.max(5, repeats);
        double[] together = new double[reps];
        double[][] lagged = new double[WAIT_LAGS_MILLIS.length][reps];
        for (int i = 0; i < reps; i++) {
            together[i] = lateSeconds(c0, c1, a, b, 0);
            for (int k = 0; k < WAIT_LAGS_MILLIS.length; k++) {
                lagged[k][i] = lateSeconds(c0, c1, a, b, (long) (WAIT_LAGS_MILLIS[k] * 1e6));
            }
        }
        double base = Medians.of(together);
        List<Interconnect.WaitPoint> curve = new ArrayList<>();
        for (int k = 0; k < WAIT_LAGS_MILLIS.length; k++) {
            curve.add(new Interconnect.WaitPoint(WAIT_LAGS_MILLIS[k] / 1e3, Medians.of(lagged[k]) / base));
        }
        return curve;
    }

    /**
     * Seconds of rank 1's all-reduce of {@code b} when it enters {@code lagNanos} after rank 0 entered its all-reduce
     * of {@code a} (asleep meanwhile): the Profiler's link measurement, also timed beside other conditions by
     * {@code ExchangeConditionsBench}.
     */
    public static double lateSeconds(
            TcpRingCommunicator c0, TcpRingCommunicator c1, FloatBuffer a, FloatBuffer b, long lagNanos) {
        CompletableFuture<Void> early = CompletableFuture.runAsync(() -> c0.allReduce(a.clear(), ReduceOp.SUM));
        long until = System.nanoTime() + lagNanos;
        for (long left = lagNanos; left > 0; left = until - System.nanoTime()) {
            java.util.concurrent.locks.LockSupport.parkNanos(left);
        }
        long t0 = System.nanoTime();
        c1.allReduce(b.clear(), ReduceOp.SUM);
        double t = (System.nanoTime() - t0) / 1e9;
        early.join();
        return t;
    }

    /** Unmeasured all-reduces per size before the link is timed. */
    static final int LINK_WARMUP = 20;

    /** Timed all-reduces per size (at least; the median is taken). */
    static final int LINK_REPEATS = 21;

    private static FloatBuffer direct(int n) {
        return java.nio.ByteBuffer.allocateDirect(4 * n)
                .order(java.nio.ByteOrder.nativeOrder())
                .asFloatBuffer();
    }
}
