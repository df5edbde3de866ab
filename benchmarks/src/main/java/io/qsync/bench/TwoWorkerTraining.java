package io.qsync.bench;

import io.qsync.backend.cpu.CpuEngine;
import io.qsync.comm.CommConfig;
import io.qsync.comm.Communicator;
import io.qsync.comm.TcpRingCommunicator;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.runtime.LocalShard;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.SyncStep;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One training run of the accuracy study: the ResNet-style CNN on 2 workers in one synchronous TCP ring over
 * loopback sockets (the trainer's {@link SyncStep}: local gradient, ring all-reduce, Adam with the global batch), in
 * this process without Spark, as {@link InterleavedPlanRunner} runs them. Worker 0 (the training GPU) runs FP32 on
 * {@code rows0} rows per step, worker 1 (the inference GPU) runs the arm's plan on {@code rows1} rows (the plan's
 * batch shares). Every epoch visits the training rows in a fresh order drawn from the seed; the master weights are
 * identical on both workers, and rank 0 evaluates them in FP32 on the test rows.
 */
final class TwoWorkerTraining {
    /** What a run gave. */
    record Result(double testAccuracy, double lastEpochLoss, double seconds) {}

    private final LocalShard train;
    private final LocalShard test;
    private final int rows0;
    private final int rows1;
    private final int epochs;

    TwoWorkerTraining(LocalShard train, LocalShard test, int rows0, int rows1, int epochs) {
        this.train = train;
        this.test = test;
        this.rows0 = rows0;
        this.rows1 = rows1;
        this.epochs = epochs;
    }

    /**
     * @param seed network initialisation and data order
     * @param plan worker 1's precision plan (worker 0 runs FP32)
     * @return test accuracy after the last epoch
     */
    Result run(long seed, Map<String, Precision> plan) throws Exception {
        ComputationGraph init = new ComputationGraph(DemoModels.resnetCnn(seed, 1e-3));
        init.init();
        ModelSpec spec = ModelSpec.of(SwitchableLayers.convert(init));
        List<Map<String, Precision>> plans = List.of(Map.of(), plan);
        double[] out = new double[2];
        long t0 = System.nanoTime();
        CommConfig cfg = CommConfig.defaults()
                .withConnectTimeout(Duration.ofSeconds(30))
                .withIoTimeout(Duration.ofMinutes(30)); // rank 1 waits while rank 0 evaluates on a loaded machine
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (TcpRingCommunicator.Endpoint e0 = TcpRingCommunicator.open("127.0.0.1", cfg);
                TcpRingCommunicator.Endpoint e1 = TcpRingCommunicator.open("127.0.0.1", cfg)) {
            List<TcpRingCommunicator.Endpoint> eps = List.of(e0, e1);
            List<String> peers = List.of(e0.address(), e1.address());
            List<Future<Void>> fs = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                fs.add(pool.submit(() -> {
                    Nd4j.getEnvironment().setMaxThreads(1);
                    try (Communicator comm = eps.get(rank).connect(rank, peers, "accuracy-study")) {
                        worker(comm, spec, plans.get(rank), seed, out);
                    }
                    return null;
                }));
            }
            for (Future<Void> f : fs) {
                f.get(2, TimeUnit.HOURS); // collectives time out after 30 min on their own
            }
        } finally {
            pool.shutdownNow();
        }
        return new Result(out[0], out[1], (System.nanoTime() - t0) / 1e9);
    }

    private void worker(Communicator comm, ModelSpec spec, Map<String, Precision> plan, long seed, double[] out) {
        int rank = comm.rank();
        ComputationGraph model = (ComputationGraph) spec.restore();
        new PrecisionPlan(plan).applyTo(model);
        CpuEngine net = CpuEngine.of(model);
        int global = rows0 + rows1;
        int steps = train.count() / global;
        Random order = new Random(seed * 7919 + 1);
        int[] perm = new int[train.count()];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = i;
        }
        try (SyncStep step = new SyncStep(net, comm)) {
            double loss = 0;
            for (int e = 0; e < epochs; e++) {
                shuffle(perm, order); // both ranks draw the same order from the same seed
                loss = 0;
                for (int s = 0; s < steps; s++) {
                    int from = s * global + (rank == 0 ? 0 : rows0);
                    loss += step.run(train.hostBatch(perm, from, from + (rank == 0 ? rows0 : rows1), 10), global, e);
                }
                loss /= steps;
            }
            if (rank == 0) {
                out[0] = accuracy(net);
                out[1] = loss;
            }
            comm.barrier();
        } catch (RuntimeException | Error e) {
            comm.abort("rank " + rank + " failed: " + e);
            throw e;
        }
    }

    private double accuracy(CpuEngine net) {
        int correct = 0;
        for (int from = 0; from < test.count(); from += 500) {
            int to = Math.min(test.count(), from + 500);
            DataSet ds = test.batch(null, from, to, 10);
            INDArray pred = net.output(ds.getFeatures()).argMax(1);
            INDArray truth = ds.getLabels().argMax(1);
            for (int i = 0; i < to - from; i++) {
                if (pred.getInt(i) == truth.getInt(i)) {
                    correct++;
                }
            }
        }
        return (double) correct / test.count();
    }

    private static void shuffle(int[] a, Random r) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
