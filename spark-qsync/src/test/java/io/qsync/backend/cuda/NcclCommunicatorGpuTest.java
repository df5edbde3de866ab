package io.qsync.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.comm.CommConfig;
import io.qsync.comm.CommException;
import io.qsync.comm.Communicator;
import io.qsync.comm.ReduceOp;
import io.qsync.lowprec.cuda.CudaDevice;
import io.qsync.lowprec.cuda.NcclPresence;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link NcclCommunicator} through the backend's hooks ({@link CudaBackend#newHostCollectiveId()},
 * {@link CudaBackend#joinHostCollective}): one rank on device 0 (the one-GPU machine), and 2 and 4 ranks on threads
 * with one device each where that many are visible: SUM and AVERAGE over heap, direct and multi-part buffers bitwise
 * identical on every rank and equal to the host's sum, all-gather of unequal lengths, barrier, and abort (a peer's abort reaches a rank waiting in a barrier). Skipped,
 * with the reason, where NCCL or enough devices are absent.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class NcclCommunicatorGpuTest {
    private static final CommConfig CONF =
            CommConfig.defaults().withConnectTimeout(Duration.ofSeconds(60)).withIoTimeout(Duration.ofSeconds(60));

    static void needDevices(int n) {
        String why = NcclPresence.whyUnavailable();
        Assumptions.assumeTrue(why == null, why);
        int have = CudaDevice.count();
        Assumptions.assumeTrue(have >= n, n + " ranks need " + n + " CUDA devices, " + have + " visible");
    }

    @Test
    void oneRankIsTheIdentityAndAbortStopsLaterCalls() {
        needDevices(1);
        CudaBackend b = new CudaBackend();
        byte[] id = b.newHostCollectiveId().orElseThrow();
        try (Communicator c = b.joinHostCollective(id, 0, 1, 0, CONF)) {
            float[] x = {1.5f, -2f, 3.25f};
            c.allReduce(x, ReduceOp.AVERAGE);
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f}, x);
            assertArrayEquals(new byte[] {4, 2}, c.allGather(new byte[] {4, 2})[0]);
            c.barrier();
            c.abort("stop here");
            CommException e = assertThrows(CommException.class, c::barrier);
            assertTrue(e.getMessage().contains("stop here"), e.getMessage());
        }
    }

    static List<String> run(int n) throws Exception {
        CudaBackend b = new CudaBackend();
        byte[] id = b.newHostCollectiveId().orElseThrow();
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<String>> fs = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                fs.add(pool.submit(() -> rankBody(b, id, rank, n)));
            }
            List<String> out = new ArrayList<>();
            for (Future<String> f : fs) {
                out.add(f.get(200, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /** One rank's collectives; returns a digest of every result (equal on all ranks iff bitwise identical). */
    static String rankBody(CudaBackend b, byte[] id, int r, int n) {
        try (Communicator c = b.joinHostCollective(id, r, n, r, CONF)) {
            StringBuilder digest = new StringBuilder();
            float[] heap = new float[300_001];
            FloatBuffer direct = ByteBuffer.allocateDirect(4 * 77)
                    .order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            for (int i = 0; i < heap.length; i++) {
                heap[i] = (float) Math.sin(i * 0.37 + r) * (r + 1);
            }
            for (int i = 0; i < 77; i++) {
                direct.put(i, i * (r + 1) - 7f);
            }
            c.allReduce(new FloatBuffer[] {FloatBuffer.wrap(heap), direct}, ReduceOp.SUM);
            for (int i = 0; i < heap.length; i += 997) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += (float) Math.sin(i * 0.37 + k) * (k + 1);
                }
                assertEquals(s, heap[i], 1e-5 * n * (1 + Math.abs(s)), "SUM at " + i);
                digest.append(Float.floatToRawIntBits(heap[i])).append(',');
            }
            for (int i = 0; i < 77; i++) {
                assertEquals(i * (n * (n + 1) / 2f) - 7f * n, direct.get(i), "exact SUM at " + i);
            }
            float[] avg = {r, 2f * r, 1f};
            c.allReduce(avg, ReduceOp.AVERAGE);
            assertEquals((n - 1) / 2f, avg[0], 1e-6f);
            assertEquals(1f, avg[2], 1e-6f);
            digest.append(Float.floatToRawIntBits(avg[0])).append(Float.floatToRawIntBits(avg[1]));
            byte[] mine = new byte[r * 3];
            java.util.Arrays.fill(mine, (byte) (r + 1));
            byte[][] all = c.allGather(mine);
            for (int k = 0; k < n; k++) {
                assertEquals(k * 3, all[k].length, "allGather length of rank " + k);
                for (byte v : all[k]) {
                    assertEquals(k + 1, v);
                }
            }
            float[] fromLast = {r, r + 0.5f, -r};
            c.broadcast(new FloatBuffer[] {FloatBuffer.wrap(fromLast, 0, 2), FloatBuffer.wrap(fromLast, 2, 1)}, n - 1);
            assertEquals(
                    List.of(n - 1f, n - 0.5f, 1f - n), List.of(fromLast[0], fromLast[1], fromLast[2]), "broadcast");
            c.barrier();
            return digest.toString();
        }
    }

    @Test
    void twoRanksAgreeBitwiseWithTheHostSum() throws Exception {
        needDevices(2);
        List<String> d = run(2);
        assertEquals(d.get(0), d.get(1));
    }

    @Test
    void fourRanksAgreeBitwiseWithTheHostSum() throws Exception {
        needDevices(4);
        List<String> d = run(4);
        for (int r = 1; r < 4; r++) {
            assertEquals(d.get(0), d.get(r), "rank " + r);
        }
    }

    @Test
    void aPeersAbortReachesARankWaitingInABarrier() throws Exception {
        needDevices(2);
        CudaBackend b = new CudaBackend();
        byte[] id = b.newHostCollectiveId().orElseThrow();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<CommException> waiting = pool.submit(() -> {
                try (Communicator c = b.joinHostCollective(id, 0, 2, 0, CONF)) {
                    return assertThrows(CommException.class, c::barrier);
                }
            });
            Future<String> aborting = pool.submit(() -> {
                try (Communicator c = b.joinHostCollective(id, 1, 2, 1, CONF)) {
                    Thread.sleep(300);
                    c.abort("out of patience");
                    return "aborted";
                }
            });
            assertEquals("aborted", aborting.get(120, TimeUnit.SECONDS));
            CommException e = waiting.get(120, TimeUnit.SECONDS);
            assertTrue(e.getMessage().contains("out of patience") && e.reportedByPeer(), e.getMessage());
        } finally {
            pool.shutdownNow();
        }
    }
}
