package io.qsync.bench;

import io.qsync.backend.cpu.CpuEngine;
import io.qsync.backend.cpu.LayerTimeRecorder;
import io.qsync.comm.CommConfig;
import io.qsync.comm.Communicator;
import io.qsync.comm.TcpRingCommunicator;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.runtime.LocalShard;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.SyncStep;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs the foundation trainer's synchronous step ({@link SyncStep}: local gradient, TCP-ring all-reduce of gradients
 * and loss, updater) on 2 worker threads with real sockets, and switches the workers' precision plans every block of
 * steps, so that all plan pairs of a study are measured in short interleaved blocks over the whole study: a slow
 * drift of the machine's speed then falls on every pair alike instead of on whichever pair ran during a slow minute.
 * Per block: the plans are applied to the live replicas, {@code skip} steps run untimed, then the layers' timing
 * hook records into that pair's {@link LayerTimeRecorder} while {@code block − skip} steps are timed (rank 0's step
 * wall time, as {@code WorkerLoop} records it).
 */
final class InterleavedPlanRunner {
    /** A plan per worker. */
    record Pair(String name, Map<String, Precision> w0, Map<String, Precision> w1) {
        List<Map<String, Precision>> plans() {
            return List.of(w0, w1);
        }
    }

    /** What one pair got: step times (ms, in block order) and the layer timings of all its blocks. */
    record Measured(List<Double> stepMs, List<Integer> cycleOfStep, LayerTimeRecorder layers) {}

    private static final int WORKERS = 2;
    private final ModelSpec spec;
    private final LocalShard data;
    private final int perWorker;
    private final long bucketBytes;

    /**
     * @param spec        switchable network (every worker restores its own replica)
     * @param data        rows; worker r's k-th batch is rows {@code (k·2 + r)·perWorker ...}
     * @param perWorker   rows per worker step
     * @param bucketBytes the steps' all-reduce bucket ({@code spark.qsync.comm.bucketBytes})
     */
    InterleavedPlanRunner(ModelSpec spec, LocalShard data, int perWorker, long bucketBytes) {
        this.spec = spec;
        this.data = data;
        this.perWorker = perWorker;
        this.bucketBytes = bucketBytes;
    }

    /**
     * @param pairs    plan pairs
     * @param schedule pair index per block, in run order
     * @param cycleOf  cycle number per block (for the drift diagnostics)
     * @param block    steps per block
     * @param skip     untimed steps at the start of each block
     * @return per pair its measurements
     */
    List<Measured> run(List<Pair> pairs, int[] schedule, int[] cycleOf, int block, int skip) throws Exception {
        List<Measured> out = new ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) {
            out.add(new Measured(new ArrayList<>(), new ArrayList<>(), new LayerTimeRecorder(0)));
        }
        CommConfig cfg =
                CommConfig.defaults().withConnectTimeout(Duration.ofSeconds(30)).withIoTimeout(Duration.ofSeconds(120));
        ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
        try (TcpRingCommunicator.Endpoint e0 = TcpRingCommunicator.open("127.0.0.1", cfg);
                TcpRingCommunicator.Endpoint e1 = TcpRingCommunicator.open("127.0.0.1", cfg)) {
            List<TcpRingCommunicator.Endpoint> eps = List.of(e0, e1);
            List<String> peers = List.of(e0.address(), e1.address());
            List<Future<Void>> fs = new ArrayList<>();
            for (int r = 0; r < WORKERS; r++) {
                int rank = r;
                fs.add(pool.submit(() -> {
                    Nd4j.getEnvironment().setMaxThreads(1);
                    try (Communicator comm = eps.get(rank).connect(rank, peers, "replayer-bench")) {
                        worker(comm, pairs, schedule, cycleOf, block, skip, out);
                    }
                    return null;
                }));
            }
            for (Future<Void> f : fs) {
                f.get(1, TimeUnit.HOURS); // a study takes ~8 min; collectives time out after 120 s on their own
            }
        } finally {
            pool.shutdownNow();
            io.qsync.lowprec.layers.LayerTiming.clear();
        }
        return out;
    }

    private void worker(
            Communicator comm,
            List<Pair> pairs,
            int[] schedule,
            int[] cycleOf,
            int block,
            int skip,
            List<Measured> out) {
        int rank = comm.rank();
        MultiLayerNetwork model = (MultiLayerNetwork) spec.restore();
        CpuEngine net = CpuEngine.of(model);
        int batches = data.count() / (WORKERS * perWorker);
        int k = 0;
        try (SyncStep step = new SyncStep(net, comm, bucketBytes)) {
            for (int b = 0; b < schedule.length; b++) {
                Pair p = pairs.get(schedule[b]);
                new PrecisionPlan(p.plans().get(rank)).applyTo(model);
                comm.barrier();
                for (int s = 0; s < block; s++, k++) {
                    if (s == skip) {
                        comm.barrier();
                        if (rank == 0) {
                            out.get(schedule[b]).layers().start();
                        }
                        comm.barrier();
                    }
                    long t0 = System.nanoTime(); // like WorkerLoop: batch assembly is part of the step
                    int row = ((k % batches) * WORKERS + rank) * perWorker;
                    step.run(data.hostBatch(null, row, row + perWorker, 10), WORKERS * perWorker, 0);
                    double ms = (System.nanoTime() - t0) / 1e6;
                    if (rank == 0 && s >= skip) {
                        out.get(schedule[b]).stepMs().add(ms);
                        out.get(schedule[b]).cycleOfStep().add(cycleOf[b]);
                    }
                }
                comm.barrier();
                if (rank == 0) {
                    io.qsync.lowprec.layers.LayerTiming.clear();
                }
            }
        } catch (RuntimeException | Error e) {
            comm.abort("rank " + rank + " failed: " + e);
            throw e;
        }
    }
}
