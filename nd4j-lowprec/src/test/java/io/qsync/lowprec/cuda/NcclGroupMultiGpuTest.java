package io.qsync.lowprec.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * NCCL groups of 2 and 4 ranks, one thread and one device each (runs where {@code cudaGetDeviceCount() >= ranks}):
 * all-reduce results bitwise identical on every rank, equal to the host's sum (exactly for integer-valued floats,
 * within float rounding otherwise), reduce-then-broadcast likewise, and a rank whose peer never calls the collective
 * woken by its own abort, by its timeout and by the peer's abort (the {@link AbortBoard} notice). Skipped, with the reason, where NCCL or enough devices are absent.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class NcclGroupMultiGpuTest {
    private static final Duration T = Duration.ofSeconds(60);
    private static final int N = 1_000_003;

    static void needDevices(int n) {
        String why = NcclPresence.whyUnavailable();
        Assumptions.assumeTrue(why == null, why);
        int have = CudaDevice.count();
        Assumptions.assumeTrue(have >= n, n + " ranks need " + n + " CUDA devices, " + have + " visible");
    }

    /** Runs {@code body(rank)} on {@code n} threads and returns the results by rank (rethrowing the first failure). */
    static <T> List<T> onRanks(int n, IntFunction<T> body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<T>> fs = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                fs.add(pool.submit(() -> body.apply(rank)));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : fs) {
                out.add(f.get(200, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static float[] data(int rank, boolean integers) {
        Random rnd = new Random(1000 + rank);
        float[] x = new float[N];
        for (int i = 0; i < N; i++) {
            x[i] = integers ? rnd.nextInt(2001) - 1000 : (float) rnd.nextGaussian() * 3f;
        }
        return x;
    }

    static float[] allReduced(byte[] id, int rank, int n, float[] x, boolean viaReduce) {
        try (DeviceAllocator mem = new DeviceAllocator("nccl-test-" + rank, 64L << 20);
                NcclGroup g = NcclGroup.join(rank, id, rank, n, T);
                DeviceBuffer b = mem.allocate("x", 4L * x.length)) {
            b.upload(x);
            if (viaReduce) {
                g.reduceSum(b.pointer(), x.length, 0, T);
                g.broadcast(b.pointer(), x.length, 0, T);
            } else {
                g.allReduceSum(b.pointer(), x.length, T);
            }
            return b.downloadFloats(x.length);
        }
    }

    void checkAllReduce(int n) throws Exception {
        needDevices(n);
        for (boolean viaReduce : new boolean[] {false, true}) {
            for (boolean integers : new boolean[] {true, false}) {
                byte[] id = NcclGroup.uniqueId();
                List<float[]> out = onRanks(n, r -> allReduced(id, r, n, data(r, integers), viaReduce));
                double[] sum = new double[N];
                for (int r = 0; r < n; r++) {
                    float[] x = data(r, integers);
                    for (int i = 0; i < N; i++) {
                        sum[i] += x[i];
                    }
                }
                String what = n + " ranks, " + (viaReduce ? "reduce+broadcast" : "allReduce")
                        + (integers ? ", integers" : ", gaussians");
                for (int r = 1; r < n; r++) {
                    assertArrayEquals(out.get(0), out.get(r), what + ": rank " + r + " differs from rank 0");
                }
                for (int i = 0; i < N; i++) {
                    float got = out.get(0)[i];
                    if (integers) {
                        assertEquals((float) sum[i], got, what + " at " + i);
                    } else {
                        assertEquals(sum[i], got, 1e-5 * (1 + Math.abs(sum[i])) * n, what + " at " + i);
                    }
                }
            }
        }
    }

    @Test
    void twoRanksAllReduceIdenticallyToTheHostSum() throws Exception {
        checkAllReduce(2);
    }

    @Test
    void fourRanksAllReduceIdenticallyToTheHostSum() throws Exception {
        checkAllReduce(4);
    }

    /** How rank 0's waiting all-reduce ends while rank 1 never calls it. */
    enum Ending {
        LOCAL_ABORT,
        TIMEOUT,
        PEER_ABORT
    }

    @Test
    void aRankWhosePeerNeverCallsIsWokenByAbortByItsTimeoutAndByThePeersAbort() throws Exception {
        needDevices(2);
        for (Ending end : Ending.values()) {
            byte[] id = NcclGroup.uniqueId();
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            List<String> msgs = onRanks(2, r -> {
                try (DeviceAllocator mem = new DeviceAllocator("nccl-test-" + r, 1 << 20);
                        NcclGroup g = NcclGroup.join(r, id, r, 2, T);
                        DeviceBuffer b = mem.allocate("x", 4096)) {
                    if (r == 1) {
                        if (end == Ending.PEER_ABORT) {
                            sleep(300);
                            g.abort("rank 1 leaves");
                        }
                        await(done);
                        g.abort("test over");
                        return "idle";
                    }
                    if (end == Ending.LOCAL_ABORT) {
                        new Thread(() -> {
                                    sleep(300);
                                    g.abort("peer gone");
                                })
                                .start();
                    }
                    long t0 = System.nanoTime();
                    NcclException e = assertThrows(
                            NcclException.class,
                            () -> g.allReduceSum(
                                    b.pointer(), 1024, end == Ending.TIMEOUT ? Duration.ofMillis(500) : T));
                    done.countDown();
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    assertTrue(ms < 10_000, end + " took " + ms + " ms");
                    assertEquals(
                            end == Ending.TIMEOUT
                                    ? NcclException.Kind.TIMEOUT
                                    : end == Ending.PEER_ABORT
                                            ? NcclException.Kind.PEER_ABORTED
                                            : NcclException.Kind.ABORTED,
                            e.kind());
                    return e.getMessage();
                } finally {
                    done.countDown();
                }
            });
            String m = msgs.get(0);
            String expected =
                    switch (end) {
                        case LOCAL_ABORT -> "peer gone";
                        case TIMEOUT -> "did not finish within";
                        case PEER_ABORT -> "rank 1 leaves";
                    };
            assertTrue(m.contains("rank 0 of 2") && m.contains(expected), end + ": " + m);
        }
    }

    private static void await(java.util.concurrent.CountDownLatch latch) {
        try {
            assertTrue(latch.await(120, TimeUnit.SECONDS), "rank 0 never finished");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
