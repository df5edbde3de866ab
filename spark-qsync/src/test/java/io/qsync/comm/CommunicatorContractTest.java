package io.qsync.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** One contract suite run against every {@link Communicator} implementation with 1 to 4 workers. */
class CommunicatorContractTest {
    private static final Duration HANG_BOUND = Duration.ofSeconds(60);
    private static final CommConfig CFG = Backend.config(Duration.ofSeconds(20), Duration.ofSeconds(20), 4096);

    static Stream<Arguments> backendsAndSizes() {
        List<Arguments> a = new ArrayList<>();
        for (Backend b : Backend.values()) {
            for (int n = 1; n <= 4; n++) {
                a.add(Arguments.of(b, n));
            }
        }
        return a.stream();
    }

    static Stream<Arguments> backendsAndMultiSizes() {
        return backendsAndSizes().filter(x -> (int) x.get()[1] >= 2);
    }

    /** Deterministic contribution of {@code rank}. */
    static float[] data(int rank, int len, long seed) {
        Random r = new Random(seed * 31 + rank);
        float[] f = new float[len];
        for (int i = 0; i < len; i++) {
            f[i] = (float) (r.nextGaussian() * (1 + (i % 7)));
        }
        return f;
    }

    static FloatBuffer buffer(float[] values, boolean direct, int pad) {
        FloatBuffer b = direct
                ? ByteBuffer.allocateDirect((values.length + 2 * pad) * 4)
                        .order(ByteOrder.nativeOrder())
                        .asFloatBuffer()
                : FloatBuffer.allocate(values.length + 2 * pad);
        for (int i = 0; i < pad; i++) {
            b.put(i, -7f);
            b.put(pad + values.length + i, -7f);
        }
        b.position(pad);
        b.put(pad, values);
        b.limit(pad + values.length);
        return b;
    }

    static int[] bits(FloatBuffer b) {
        int[] out = new int[b.remaining()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.floatToRawIntBits(b.get(b.position() + i));
        }
        return out;
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("backendsAndSizes")
    void allReduceMatchesDoubleReferenceAndIsBitwiseIdentical(Backend backend, int n) {
        int chunkFloats = CFG.chunkBytes() / 4;
        int[] lengths = {0, 1, Math.max(0, n - 1), 1000, chunkFloats * n + 3, 3 * chunkFloats * n - 5, 750_007};
        assertTimeoutPreemptively(HANG_BOUND, () -> {
            List<List<int[]>> results = Backend.values(backend.run(n, CFG, comm -> {
                List<int[]> mine = new ArrayList<>();
                long seed = 1;
                for (int len : lengths) {
                    for (boolean direct : new boolean[] {false, true}) {
                        for (ReduceOp op : ReduceOp.values()) {
                            int pad = (int) (seed % 3) * 5;
                            FloatBuffer b = buffer(data(comm.rank(), len, seed), direct, pad);
                            comm.allReduce(b, op);
                            assertEquals(pad, b.position(), "position unchanged");
                            assertEquals(pad + len, b.limit(), "limit unchanged");
                            if (pad > 0) {
                                assertEquals(-7f, b.get(pad - 1), "element before position untouched");
                                assertEquals(
                                        -7f, b.duplicate().clear().get(pad + len), "element after limit untouched");
                            }
                            checkAgainstReference(b, n, len, seed, op);
                            mine.add(bits(b));
                            seed++;
                        }
                    }
                }
                return mine;
            }));
            for (int r = 1; r < n; r++) {
                for (int k = 0; k < results.get(0).size(); k++) {
                    assertArrayEquals(
                            results.get(0).get(k), results.get(r).get(k), "rank " + r + " differs, collective " + k);
                }
            }
        });
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("backendsAndSizes")
    void allReduceOfPartsEqualsAllReduceOfTheirConcatenationBitwise(Backend backend, int n) {
        // a bucket split over parts of all kinds (direct with an offset, heap, a 1-float loss scalar), long enough to
        // be striped over several connections; the concatenation is reduced as one heap buffer
        int[] lens = {400_001, 7, 180_000, 1};
        assertTimeoutPreemptively(HANG_BOUND, () -> {
            List<int[]> results = Backend.values(backend.run(n, CFG, comm -> {
                long seed = 40;
                FloatBuffer[] parts = new FloatBuffer[lens.length];
                int total = 0;
                for (int i = 0; i < lens.length; i++) {
                    parts[i] = buffer(data(comm.rank(), lens[i], seed + i), i % 2 == 0, i == 0 ? 3 : 0);
                    total += lens[i];
                }
                FloatBuffer whole = FloatBuffer.allocate(total);
                for (FloatBuffer p : parts) {
                    whole.put(p.duplicate());
                }
                whole.flip();
                comm.allReduce(parts, ReduceOp.SUM);
                comm.allReduce(whole, ReduceOp.SUM);
                int at = 0;
                for (FloatBuffer p : parts) {
                    assertArrayEquals(bits(whole.slice(at, p.remaining())), bits(p), "part at " + at);
                    at += p.remaining();
                }
                assertEquals(3, parts[0].position(), "position unchanged");
                return bits(whole);
            }));
            for (int r = 1; r < n; r++) {
                assertArrayEquals(results.get(0), results.get(r), "rank " + r + " differs");
            }
        });
    }

    private static void checkAgainstReference(FloatBuffer b, int n, int len, long seed, ReduceOp op) {
        double[] ref = new double[len];
        double[] mag = new double[len];
        for (int q = 0; q < n; q++) {
            float[] d = data(q, len, seed);
            for (int i = 0; i < len; i++) {
                ref[i] += d[i];
                mag[i] += Math.abs(d[i]);
            }
        }
        double k = op == ReduceOp.AVERAGE ? 1.0 / n : 1.0;
        for (int i = 0; i < len; i++) {
            double got = b.get(b.position() + i);
            double tol = 1e-5 * mag[i] * k + 1e-30;
            if (Math.abs(got - ref[i] * k) > tol) {
                throw new AssertionError(
                        op + " element " + i + " of " + len + ": got " + got + ", expected " + ref[i] * k);
            }
        }
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("backendsAndSizes")
    void allGatherReturnsEveryRanksBytesIncludingEmptyAndLarge(Backend backend, int n) {
        assertTimeoutPreemptively(HANG_BOUND, () -> {
            List<byte[][]> out = Backend.values(backend.run(n, CFG, comm -> {
                comm.allGather(new byte[0]);
                return comm.allGather(entry(comm.rank()));
            }));
            for (byte[][] got : out) {
                assertEquals(n, got.length);
                for (int q = 0; q < n; q++) {
                    assertArrayEquals(entry(q), got[q], "entry of rank " + q);
                }
            }
        });
    }

    /** Rank 0: empty; rank 1: 1 byte; rank 2: several chunks; rank 3: 17 bytes. */
    private static byte[] entry(int rank) {
        int len =
                switch (rank) {
                    case 0 -> 0;
                    case 1 -> 1;
                    case 2 -> 3 * CFG.chunkBytes() + 11;
                    default -> 17;
                };
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (rank * 31 + i);
        }
        return b;
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("backendsAndSizes")
    void barrierReturnsOnlyAfterEveryRankEntered(Backend backend, int n) {
        assertTimeoutPreemptively(HANG_BOUND, () -> {
            CountDownLatch entered = new CountDownLatch(n);
            List<Long> pending = Backend.values(backend.run(n, CFG, comm -> {
                entered.countDown();
                comm.barrier();
                return entered.getCount();
            }));
            pending.forEach(p -> assertEquals(0L, p));
        });
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("backendsAndSizes")
    void manyConsecutiveMixedCollectives(Backend backend, int n) {
        assertTimeoutPreemptively(HANG_BOUND, () -> {
            List<Float> sums = Backend.values(backend.run(n, CFG, comm -> {
                float total = 0;
                for (int i = 0; i < 300; i++) {
                    float[] v = {comm.rank() + i, 1f, i % 5};
                    comm.allReduce(v, i % 2 == 0 ? ReduceOp.SUM : ReduceOp.AVERAGE);
                    float expect0 = (float) (n * (n - 1) / 2 + n * i) / (i % 2 == 0 ? 1 : n);
                    assertEquals(expect0, v[0], 1e-3f * Math.max(1, Math.abs(expect0)), "iteration " + i);
                    total += v[1];
                    if (i % 50 == 0) {
                        comm.barrier();
                        assertEquals(n, comm.allGather(new byte[] {(byte) i}).length);
                    }
                }
                return total;
            }));
            sums.forEach(s -> assertEquals(150f * n + 150f, s, 1e-3f));
        });
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("backendsAndMultiSizes")
    void workerFailingMidRunMakesEveryOtherWorkerFailPromptly(Backend backend, int n) {
        CommConfig cfg = Backend.config(Duration.ofSeconds(20), Duration.ofSeconds(30), 4096);
        assertTimeoutPreemptively(HANG_BOUND, () -> {
            List<Backend.Outcome<Object>> out = backend.run(n, cfg, comm -> {
                float[] big = new float[200_000];
                for (int i = 0; i < 1000; i++) {
                    if (comm.rank() == 1 && i == 3) {
                        throw new IllegalStateException("injected-failure-xyz");
                    }
                    comm.allReduce(big, ReduceOp.SUM);
                }
                return null;
            });
            for (Backend.Outcome<Object> o : out) {
                assertNotNull(o.error(), "rank " + o.rank() + " should fail");
                assertTrue(o.millis() < 10_000, "rank " + o.rank() + " failed after " + o.millis() + " ms");
                if (o.rank() != 1) {
                    assertInstanceOf(CommException.class, o.error());
                    String m = o.error().getMessage();
                    assertTrue(m.contains("injected-failure-xyz") || m.contains("rank 1"), m);
                }
            }
        });
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("backendsAndMultiSizes")
    void abortFromAnotherThreadUnblocksEveryone(Backend backend, int n) {
        assertTimeoutPreemptively(HANG_BOUND, () -> {
            CountDownLatch rank0Blocked = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            List<Backend.Outcome<Object>> out = backend.run(n, CFG, comm -> {
                if (comm.rank() == 0) {
                    Thread aborter = new Thread(() -> {
                        try {
                            rank0Blocked.await();
                            comm.abort("external-abort-123");
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        } finally {
                            release.countDown();
                        }
                    });
                    aborter.start();
                    rank0Blocked.countDown();
                    comm.allReduce(new float[10], ReduceOp.SUM); // blocks: the others wait for the release
                } else {
                    assertTrue(release.await(30, TimeUnit.SECONDS));
                    comm.allReduce(new float[10], ReduceOp.SUM);
                }
                return null;
            });
            for (Backend.Outcome<Object> o : out) {
                assertInstanceOf(CommException.class, o.error(), "rank " + o.rank());
                assertTrue(
                        o.error().getMessage().contains("external-abort-123")
                                || o.error().getMessage().contains("rank 0"),
                        o.error().getMessage());
                assertTrue(o.millis() < 10_000, "rank " + o.rank() + " took " + o.millis() + " ms");
            }
        });
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("backendsAndMultiSizes")
    void lengthMismatchIsReportedClearly(Backend backend, int n) {
        assertTimeoutPreemptively(HANG_BOUND, () -> {
            List<Backend.Outcome<Object>> out = backend.run(n, CFG, comm -> {
                comm.allReduce(new float[comm.rank() == n - 1 ? 7 : 5], ReduceOp.SUM);
                return null;
            });
            for (Backend.Outcome<Object> o : out) {
                assertInstanceOf(CommException.class, o.error(), "rank " + o.rank());
                assertTrue(
                        o.error().getMessage().contains("length mismatch"),
                        o.error().getMessage());
                assertTrue(o.millis() < 10_000, "rank " + o.rank() + " took " + o.millis() + " ms");
            }
        });
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("backendsAndMultiSizes")
    void stalledPeerCausesIoTimeoutNamingTheSetting(Backend backend, int n) {
        CommConfig cfg = Backend.config(Duration.ofSeconds(20), Duration.ofMillis(800), 4096);
        assertTimeoutPreemptively(HANG_BOUND, () -> {
            CountDownLatch othersDone = new CountDownLatch(n - 1);
            List<Backend.Outcome<Object>> out = backend.run(n, cfg, comm -> {
                if (comm.rank() == n - 1) {
                    assertTrue(othersDone.await(30, TimeUnit.SECONDS)); // connected, but never joins the collective
                    return null;
                }
                try {
                    comm.allReduce(new float[100], ReduceOp.SUM);
                } finally {
                    othersDone.countDown();
                }
                return null;
            });
            for (Backend.Outcome<Object> o : out.subList(0, n - 1)) {
                assertInstanceOf(CommException.class, o.error(), "rank " + o.rank());
                assertTrue(o.millis() < 10_000, "rank " + o.rank() + " took " + o.millis() + " ms");
            }
            assertTrue(
                    out.stream()
                            .anyMatch(o ->
                                    o.error() != null && o.error().getMessage().contains(CommConfig.IO_TIMEOUT_KEY)),
                    "some rank reports the I/O timeout key");
        });
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void peerThatNeverConnectsGivesAClearTimeout(Backend backend) {
        CommConfig cfg = Backend.config(Duration.ofMillis(1500), Duration.ofSeconds(20), 4096);
        assertTimeoutPreemptively(HANG_BOUND, () -> {
            Backend.Setup setup = backend.new Setup(3, cfg);
            TcpRingCommunicator.Endpoint[] silent = new TcpRingCommunicator.Endpoint[1];
            Thread publisher = null;
            if (backend != Backend.LOCAL) { // rank 2 publishes an address but never joins the (leaders') ring
                silent[0] = TcpRingCommunicator.open("127.0.0.1", cfg);
                publisher = new Thread(() -> {
                    if (backend == Backend.TCP) {
                        setup.exchange(2, silent[0].address());
                    } else {
                        setup.exchangeLeaders(1, silent[0].address()); // rank 2 leads the second "host"
                    }
                });
                publisher.start();
            }
            try {
                List<Backend.Outcome<Object>> out = backend.runWith(setup, 2, comm -> null);
                if (backend == Backend.HIERARCHICAL) { // only the leader connects beyond its host
                    out = out.subList(0, 1);
                }
                for (Backend.Outcome<Object> o : out) {
                    assertInstanceOf(CommException.class, o.error(), "rank " + o.rank());
                    String m = o.error().getMessage();
                    assertTrue(m.contains("timed out") || m.contains("closed"), m);
                    assertTrue(o.millis() < 10_000, "rank " + o.rank() + " took " + o.millis() + " ms");
                }
                assertTrue(out.stream().anyMatch(o -> o.error().getMessage().contains(CommConfig.CONNECT_TIMEOUT_KEY)));
            } finally {
                if (publisher != null) {
                    publisher.join();
                    silent[0].close();
                }
            }
        });
    }
}
