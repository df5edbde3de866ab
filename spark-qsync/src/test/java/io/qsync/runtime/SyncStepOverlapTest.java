package io.qsync.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.backend.cpu.CpuEngine;
import io.qsync.backend.cuda.ProgramEngine;
import io.qsync.comm.CommConfig;
import io.qsync.comm.CommException;
import io.qsync.comm.Communicator;
import io.qsync.comm.TcpRingCommunicator;
import io.qsync.data.FashionMnist;
import io.qsync.lowprec.train.HostOps;
import io.qsync.models.DemoModels;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.stream.Stream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The all-reduce overlapped with the backward pass ({@link SyncStep} buckets, the CPU engine's per-layer reports) on
 * real sockets: the reports never change the gradient, the buckets start during the backward pass, bucketed steps
 * give the same bits as one all-reduce after the backward, and a worker failing while buckets are in flight fails the
 * others promptly.
 */
class SyncStepOverlapTest {
    private static final int ROWS = 16;
    private static LocalShard data;

    @BeforeAll
    static void load() {
        data = FashionMnist.load(FashionMnist.Split.TRAIN).head(8 * ROWS).toShard();
    }

    static Stream<Arguments> networks() {
        return Stream.of(
                Arguments.of(
                        "MLP", ModelSpec.fromJson(DemoModels.mlp(1, 64, 1e-3).toJson())),
                Arguments.of(
                        "demo CNN",
                        ModelSpec.fromJson(DemoModels.fashionCnn(2, 1e-3).toJson())),
                Arguments.of(
                        "residual graph",
                        ModelSpec.fromJson(DemoModels.residualMlp(3, 64, 1e-3).toJson())),
                Arguments.of("ResNet CNN (batch norm)", resnet()));
    }

    private static ModelSpec resnet() {
        ComputationGraph g = new ComputationGraph(DemoModels.resnetCnn(4, 1e-3));
        g.init();
        return ModelSpec.of(g);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void layerReportsLeaveTheGradientBitwiseUnchangedAndCoverItFromTheEnd(String name, ModelSpec spec) {
        CpuEngine plain = CpuEngine.of(spec.restore());
        CpuEngine probed = CpuEngine.of(spec.restore());
        HostBatch b = data.hostBatch(null, 0, ROWS, 10);
        plain.computeGradient(b);
        List<Long> reports = new ArrayList<>();
        probed.computeGradient(b, reports::add);
        assertArrayEquals(bits(plain.gradient()), bits(probed.gradient()), name + ": gradient bits");
        assertTrue(reports.size() >= 2, name + ": reports during the backward pass: " + reports);
        for (int i = 1; i < reports.size(); i++) {
            assertTrue(reports.get(i) <= reports.get(i - 1), name + ": reports must move towards 0: " + reports);
        }
        assertTrue(reports.get(0) < plain.numParams() && reports.get(reports.size() - 1) >= 0, name + ": " + reports);
        // the network has its own layers back: a plain step afterwards still matches
        plain.computeGradient(b);
        probed.computeGradient(b);
        assertArrayEquals(bits(plain.gradient()), bits(probed.gradient()), name + ": gradient bits after the probe");
        Model m = probed.model();
        int wrapped = m instanceof MultiLayerNetwork mln
                ? (int) Stream.of(mln.getLayers())
                        .filter(l -> l.getClass().getName().contains("BackwardProbe"))
                        .count()
                : (int) Stream.of(((ComputationGraph) m).getLayers())
                        .filter(l -> l.getClass().getName().contains("BackwardProbe"))
                        .count();
        assertEquals(0, wrapped, name + ": no probe left in the network");
    }

    @Test
    void aNetworkWithAFrozenLayerGetsNoEarlyReportsAndAnUnchangedGradient() {
        MultiLayerNetwork base = new MultiLayerNetwork(DemoModels.mlp(7, 64, 1e-3));
        base.init();
        // DL4J stops its backward pass at a frozen layer, recognised by its class: the probe must not wrap it
        MultiLayerNetwork frozen = new org.deeplearning4j.nn.transferlearning.TransferLearning.Builder(base)
                .setFeatureExtractor(0)
                .build();
        ModelSpec spec = ModelSpec.of(frozen);
        CpuEngine plain = CpuEngine.of(spec.restore());
        CpuEngine probed = CpuEngine.of(spec.restore());
        HostBatch b = data.hostBatch(null, 0, ROWS, 10);
        plain.computeGradient(b);
        List<Long> reports = new ArrayList<>();
        probed.computeGradient(b, reports::add);
        assertEquals(List.of(), reports, "no early reports");
        assertArrayEquals(bits(plain.gradient()), bits(probed.gradient()), "gradient bits");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void bucketedStepsOnTwoWorkersGiveTheSameBitsAsOneAllReduceAfterTheBackward(String name, ModelSpec spec)
            throws Exception {
        Run bucketed = train(spec, 8 << 10, -1);
        Run single = train(spec, 0, -1);
        assertTrue(bucketed.buckets > 2, name + ": several buckets per step, got " + bucketed.buckets);
        assertEquals(1, single.buckets, name + ": bucketBytes 0 = one collective");
        assertArrayEquals(bucketed.params.get(0), bucketed.params.get(1), name + ": replicas bitwise identical");
        // with two workers every element is a + b in either order: bucketing cannot change a bit
        assertArrayEquals(single.params.get(0), bucketed.params.get(0), name + ": bucketed vs one all-reduce");
        assertArrayEquals(single.losses, bucketed.losses, name + ": loss travels with the last bucket");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void theProgramEngineReportsFromTheEndAndItsBucketedStepsMatchOneAllReduce(String name, ModelSpec spec)
            throws Exception {
        HostBatch b = data.hostBatch(null, 0, ROWS, 10);
        float[] plain;
        try (ProgramEngine e = ProgramEngine.open(spec.restore(), new HostOps(), "host", ROWS)) {
            e.computeGradient(b);
            plain = toArray(e.gradient());
        }
        List<Long> reports = new ArrayList<>();
        try (ProgramEngine e = ProgramEngine.open(spec.restore(), new HostOps(), "host", ROWS)) {
            e.computeGradient(b, reports::add);
            assertArrayEquals(plain, toArray(e.gradient()), name + ": gradient with reports");
            assertTrue(reports.size() >= 2 && reports.get(0) < e.numParams(), name + ": reports " + reports);
        }
        for (int i = 1; i < reports.size(); i++) {
            assertTrue(reports.get(i) < reports.get(i - 1), name + ": reports must move towards 0: " + reports);
        }
        assertEquals(0L, reports.get(reports.size() - 1), name + ": the last report covers the whole gradient");
        Run bucketed = train(spec, 8 << 10, -1, true);
        Run single = train(spec, 0, -1, true);
        assertTrue(bucketed.buckets > 2, name + ": several buckets per step, got " + bucketed.buckets);
        assertArrayEquals(bucketed.params.get(0), bucketed.params.get(1), name + ": replicas bitwise identical");
        assertArrayEquals(single.params.get(0), bucketed.params.get(0), name + ": bucketed vs one all-reduce");
    }

    private static float[] toArray(FloatBuffer b) {
        float[] out = new float[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void aWorkerFailingWhileBucketsAreInFlightFailsTheOtherWellWithinTheTimeout() {
        ModelSpec spec = ModelSpec.fromJson(DemoModels.fashionCnn(5, 1e-3).toJson());
        long t0 = System.nanoTime();
        Exception e = assertThrowsWithin(() -> train(spec, 8 << 10, 1));
        double secs = (System.nanoTime() - t0) / 1e9;
        assertInstanceOf(CommException.class, e, "rank 0 fails in the ring");
        assertTrue(e.getMessage().contains("injected failure during the backward pass"), e.getMessage());
        assertTrue(secs < 30, "failed after " + secs + " s; the I/O timeout is 60 s");
    }

    private static Exception assertThrowsWithin(java.util.concurrent.Callable<?> body) {
        return assertTimeoutPreemptively(Duration.ofSeconds(45), () -> {
            try {
                body.call();
            } catch (java.util.concurrent.ExecutionException e) {
                return (Exception) e.getCause();
            }
            throw new AssertionError("the job did not fail");
        });
    }

    /** What a 2-worker run gave: each rank's parameters, rank 0's losses, buckets in the last step. */
    private record Run(List<float[]> params, float[] losses, int buckets) {}

    /** 4 steps of 2 × ROWS rows on 2 workers over TCP; {@code failRank} throws after its first report (-1: none). */
    private static Run train(ModelSpec spec, long bucketBytes, int failRank) throws Exception {
        return train(spec, bucketBytes, failRank, false);
    }

    /** As above; {@code program}: the program engine of the CUDA backend on the host reference ops. */
    private static Run train(ModelSpec spec, long bucketBytes, int failRank, boolean program) throws Exception {
        CommConfig cfg =
                CommConfig.defaults().withConnectTimeout(Duration.ofSeconds(20)).withIoTimeout(Duration.ofSeconds(60));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        float[] losses = new float[4];
        int[] buckets = new int[1];
        try (TcpRingCommunicator.Endpoint e0 = TcpRingCommunicator.open("127.0.0.1", cfg);
                TcpRingCommunicator.Endpoint e1 = TcpRingCommunicator.open("127.0.0.1", cfg)) {
            List<TcpRingCommunicator.Endpoint> eps = List.of(e0, e1);
            List<String> peers = List.of(e0.address(), e1.address());
            List<Future<float[]>> fs = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                fs.add(pool.submit(() -> {
                    try (Communicator comm = eps.get(rank).connect(rank, peers, "overlap-test")) {
                        TrainingEngine own = program
                                ? ProgramEngine.open(spec.restore(), new HostOps(), "host", ROWS)
                                : CpuEngine.of(spec.restore());
                        TrainingEngine engine = rank == failRank ? new FailingEngine(own) : own;
                        try (SyncStep step = new SyncStep(engine, comm, bucketBytes)) {
                            for (int s = 0; s < 4; s++) {
                                int from = (2 * s + rank) * ROWS;
                                float loss = (float) step.run(data.hostBatch(null, from, from + ROWS, 10), 2 * ROWS, 0);
                                if (rank == 0) {
                                    losses[s] = loss;
                                    buckets[0] = step.lastBuckets();
                                }
                            }
                        } catch (RuntimeException ex) {
                            comm.abort("rank " + rank + " failed: " + ex.getMessage()); // as WorkerLoop does
                            throw ex;
                        }
                        float[] p = new float[(int) own.numParams()];
                        own.readParams(FloatBuffer.wrap(p));
                        own.close();
                        return p;
                    }
                }));
            }
            List<float[]> params = new ArrayList<>();
            for (Future<float[]> f : fs) {
                params.add(f.get(3, TimeUnit.MINUTES));
            }
            return new Run(params, losses, buckets[0]);
        } finally {
            pool.shutdownNow();
        }
    }

    private static int[] bits(FloatBuffer b) {
        int[] out = new int[b.remaining()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.floatToRawIntBits(b.get(b.position() + i));
        }
        return out;
    }

    /** A CPU engine whose backward pass fails after its first bucket report of the second step. */
    private static final class FailingEngine extends DelegatingEngine {
        private int steps;

        FailingEngine(TrainingEngine e) {
            super(e);
        }

        @Override
        public double computeGradient(HostBatch batch, LongConsumer readyFrom) {
            boolean fail = ++steps == 2;
            return inner.computeGradient(batch, k -> {
                readyFrom.accept(k);
                if (fail) {
                    throw new IllegalStateException("injected failure during the backward pass");
                }
            });
        }
    }
}
