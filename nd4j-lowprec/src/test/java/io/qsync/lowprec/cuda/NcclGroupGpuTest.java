package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.CU_STREAM_WAIT_VALUE_EQ;
import static org.bytedeco.cuda.global.cudart.cuStreamWaitValue32;
import static org.bytedeco.cuda.global.cudart.cuStreamWriteValue32;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One-rank NCCL groups on device 0 (the one-GPU machine): set-up, the identity of a one-rank all-reduce, reduce and
 * broadcast, host collectives, {@link NcclGroup#abort} waking a call that waits (its stream held back by a
 * {@code cuStreamWaitValue32} on a device flag) and the timeouts of a collective and of a set-up whose second rank
 * never comes. Skipped, with the reason, where NCCL or a CUDA device is absent (CI).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class NcclGroupGpuTest {
    private static final Duration T = Duration.ofSeconds(30);

    @BeforeEach
    void needsNccl() {
        String why = NcclPresence.whyUnavailable();
        Assumptions.assumeTrue(why == null, why);
    }

    @Test
    void oneRankCollectivesAreTheIdentity() {
        float[] x = new float[1000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i) * 1e3f;
        }
        try (DeviceAllocator mem = new DeviceAllocator("nccl-test", 1 << 20);
                NcclGroup g = NcclGroup.join(0, NcclGroup.uniqueId(), 0, 1, T);
                DeviceBuffer b = mem.allocate("x", 4L * x.length)) {
            assertEquals(1, g.size());
            b.upload(x);
            CudaTensor t = new CudaTensor(b, x.length);
            g.allReduceSum(t, T);
            assertArrayEquals(x, b.downloadFloats(x.length));
            g.reduceSum(t, 0, T);
            g.broadcast(t, 0, T);
            assertArrayEquals(x, b.downloadFloats(x.length));
            assertThrows(IllegalArgumentException.class, () -> g.broadcast(t, 1, T));
        }
    }

    @Test
    void oneRankHostCollectivesScaleGatherAndBarrier() {
        try (NcclHostCollectives h = new NcclHostCollectives(NcclGroup.join(0, NcclGroup.uniqueId(), 0, 1, T), false)) {
            FloatBuffer a = FloatBuffer.wrap(new float[] {9, 1, 2, 3, 9});
            a.position(1).limit(4);
            FloatBuffer b = java.nio.ByteBuffer.allocateDirect(8)
                    .order(java.nio.ByteOrder.nativeOrder())
                    .asFloatBuffer()
                    .put(new float[] {4, 5})
                    .flip();
            h.allReduce(new FloatBuffer[] {a, b}, 0.5f, T);
            assertArrayEquals(new float[] {9, 0.5f, 1, 1.5f, 9}, a.array());
            assertEquals(1, a.position());
            assertEquals(2f, b.get(0));
            assertEquals(2.5f, b.get(1));
            byte[][] all = h.allGather(new byte[] {7, 8, 9}, T);
            assertEquals(1, all.length);
            assertArrayEquals(new byte[] {7, 8, 9}, all[0]);
            assertEquals(0, h.allGather(new byte[0], T)[0].length);
            h.barrier(T);
        }
    }

    @Test
    void abortWakesACallWaitingOnTheStream() throws Exception {
        long t0 = System.nanoTime();
        NcclException e = heldCollective(300, "test says stop", T);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(NcclException.Kind.ABORTED, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("test says stop") && e.getMessage().contains("rank 0 of 1"), e.getMessage());
        assertTrue(ms < 10_000, "abort took " + ms + " ms");
    }

    @Test
    void aCollectiveThatCannotFinishTimesOut() throws Exception {
        NcclException e = heldCollective(3000, null, Duration.ofMillis(500));
        assertEquals(NcclException.Kind.TIMEOUT, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("did not finish within PT0.5S"), e.getMessage());
    }

    /**
     * An all-reduce on a one-rank group whose stream is held back: {@code releaseMs} later the group is aborted with
     * {@code reason} (when given) and the stream let go. Returns the collective's failure; checks that the group
     * refuses later calls.
     */
    static NcclException heldCollective(long releaseMs, String reason, Duration timeout) throws Exception {
        try (DeviceAllocator mem = new DeviceAllocator("nccl-test", 1 << 20);
                NcclGroup g = NcclGroup.join(0, NcclGroup.uniqueId(), 0, 1, T);
                DeviceBuffer flag = mem.allocate("flag", 4);
                DeviceBuffer x = mem.allocate("x", 4096)) {
            holdStream(g, flag);
            Thread release = releaseLater(g, flag, releaseMs, reason);
            NcclException e = assertThrows(NcclException.class, () -> g.allReduceSum(x.pointer(), 1024, timeout));
            release.join();
            NcclException after = assertThrows(NcclException.class, () -> g.allReduceSum(x.pointer(), 1, T));
            assertTrue(after.getMessage().contains("aborted or closed before"), after.getMessage());
            return e;
        }
    }

    @Test
    void aGroupWhoseOtherRankNeverComesTimesOut() {
        long t0 = System.nanoTime();
        NcclException e = assertThrows(
                NcclException.class, () -> NcclGroup.join(0, NcclGroup.uniqueId(), 0, 2, Duration.ofSeconds(2)));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(NcclException.Kind.TIMEOUT, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("rank 0 of 2") && e.getMessage().contains("timed out"), e.getMessage());
        assertTrue(ms < 30_000, "gave up after " + ms + " ms");
    }

    /** Queues a wait for {@code flag == 1} (it is 0) on the group's stream: work queued after it waits. */
    static void holdStream(NcclGroup g, DeviceBuffer flag) {
        flag.fill(0);
        int rc = cuStreamWaitValue32(g.stream().handle(), flag.pointer().address(), 1, CU_STREAM_WAIT_VALUE_EQ);
        assertEquals(0, rc, "cuStreamWaitValue32");
    }

    /** After {@code ms}: aborts the group (when a reason is given), then sets the flag 1 s later so the stream drains. */
    static Thread releaseLater(NcclGroup g, DeviceBuffer flag, long ms, String reason) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(ms);
                if (reason != null) {
                    g.abort(reason);
                    Thread.sleep(1000);
                }
                cudaSetDevice(g.deviceOrdinal());
                try (CudaStream s = new CudaStream()) { // not the legacy stream: nothing orders it after the held one
                    assertEquals(
                            0, cuStreamWriteValue32(s.handle(), flag.pointer().address(), 1, 0));
                    s.synchronize("flag release");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }
}
