package io.qsync.bench;

import io.qsync.backend.cpu.CpuEngine;
import io.qsync.comm.CommConfig;
import io.qsync.comm.Communicator;
import io.qsync.comm.ReduceOp;
import io.qsync.comm.TcpRingCommunicator;
import io.qsync.data.FashionMnist;
import io.qsync.models.DemoModels;
import io.qsync.runtime.HostBatch;
import io.qsync.runtime.LocalShard;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where the time of one 2-worker step of the MLP 784-256-256-10 goes (issue 17's MLP line): two ranks in this JVM,
 * one native thread each (as {@link TrainingOverheadBench}'s workers), 128 rows each, over the TCP ring; median
 * milliseconds of batch assembly, {@code computeGradient}, the all-reduce (including the wait for the other rank) and
 * {@code applyUpdate}. The same phases of one process with all its rows and cores are the baseline in the same run.
 *
 * <p>Usage: {@code benchmarks/run.sh io.qsync.bench.StepPhasesBench <out.md> [steps]}
 */
public final class StepPhasesBench {
    private static final int ROWS = 128;
    private static final int WARMUP = 10;

    private StepPhasesBench() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "benchmarks/results/step-phases.md");
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        String load = BenchEnv.machine();
        LocalShard data = FashionMnist.load(FashionMnist.Split.TRAIN)
                .head(2 * ROWS * (steps + WARMUP))
                .toShard();
        threads(1);
        double[][] ranks = twoRanks(data, steps);
        threads(Runtime.getRuntime().availableProcessors());
        double[] single = phases(data, steps, 2 * ROWS, null, 0);
        StringBuilder md = new StringBuilder("# One 2-worker step of the MLP, phase by phase\n\n");
        md.append("- Machine: ").append(load).append("\n- Date: ").append(ZonedDateTime.now());
        md.append("\n- Command: `benchmarks/run.sh io.qsync.bench.StepPhasesBench ")
                .append(String.join(" ", args))
                .append("`\n- Median ms over ")
                .append(steps)
                .append(" steps after ")
                .append(WARMUP)
                .append(" (MLP 784-256-256-10, Adam, Fashion-MNIST rows).\n\n");
        md.append("| run | batch | computeGradient | all-reduce | applyUpdate | step |\n|---|---|---|---|---|---|\n");
        for (int r = 0; r < 2; r++) {
            row(md, "rank " + r + " of 2 (128 rows, 1 thread)", ranks[r]);
        }
        row(md, "one process (256 rows, all cores)", single);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, md.toString());
        System.out.println(md);
    }

    private static void row(StringBuilder md, String name, double[] p) {
        md.append(String.format(
                "| %s | %.2f | %.2f | %.2f | %.2f | %.2f |%n",
                name, p[0], p[1], p[2], p[3], p[0] + p[1] + p[2] + p[3]));
    }

    private static void threads(int n) {
        Nd4j.getEnvironment().setMaxThreads(n);
        Nd4j.getEnvironment().setMaxMasterThreads(n);
        Nd4j.factory().blas().setMaxThreads(n);
    }

    private static double[][] twoRanks(LocalShard data, int steps) throws Exception {
        CommConfig cfg = CommConfig.defaults();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (TcpRingCommunicator.Endpoint e0 = TcpRingCommunicator.open("127.0.0.1", cfg);
                TcpRingCommunicator.Endpoint e1 = TcpRingCommunicator.open("127.0.0.1", cfg)) {
            List<TcpRingCommunicator.Endpoint> eps = List.of(e0, e1);
            List<String> peers = List.of(e0.address(), e1.address());
            List<Future<double[]>> fs = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                fs.add(pool.submit(() -> {
                    try (Communicator comm = eps.get(rank).connect(rank, peers, "phases")) {
                        return phases(data, steps, ROWS, comm, rank);
                    }
                }));
            }
            return new double[][] {fs.get(0).get(), fs.get(1).get()};
        } finally {
            pool.shutdownNow();
        }
    }

    /** Median ms of batch, gradient, all-reduce (0 without comm) and update over {@code steps} steps. */
    private static double[] phases(LocalShard data, int steps, int rows, Communicator comm, int rank) {
        MultiLayerNetwork m = new MultiLayerNetwork(DemoModels.mlp(1, 256, 1e-3));
        m.init();
        CpuEngine engine = CpuEngine.of(m);
        int size = comm == null ? 1 : comm.size();
        double[][] t = new double[4][steps];
        for (int s = 0; s < steps + WARMUP; s++) {
            int from = (s * size + rank) * rows;
            long t0 = System.nanoTime();
            HostBatch b = data.hostBatch(null, from, from + rows, 10);
            long t1 = System.nanoTime();
            engine.computeGradient(b);
            long t2 = System.nanoTime();
            if (comm != null) {
                comm.allReduce(new FloatBuffer[] {engine.gradient()}, ReduceOp.SUM);
            }
            long t3 = System.nanoTime();
            engine.applyUpdate(rows * size, 0);
            long t4 = System.nanoTime();
            if (s >= WARMUP) {
                long[] ts = {t0, t1, t2, t3, t4};
                for (int k = 0; k < 4; k++) {
                    t[k][s - WARMUP] = (ts[k + 1] - ts[k]) / 1e6;
                }
            }
        }
        double[] med = new double[4];
        for (int k = 0; k < 4; k++) {
            Arrays.sort(t[k]);
            med[k] = t[k][steps / 2];
        }
        return med;
    }
}
