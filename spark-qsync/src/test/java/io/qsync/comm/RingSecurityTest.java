package io.qsync.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The ring's handshake against strangers, wrong keys and kill requests (real sockets on loopback). */
class RingSecurityTest {
    private static final CommConfig CONFIG = new CommConfig(Duration.ofSeconds(30), Duration.ofSeconds(30), 64 * 1024);
    private static final byte[] KEY = RingAuth.derive("app-secret".getBytes(StandardCharsets.UTF_8), "ring", "1");

    /** Joins a 2-rank ring on two threads; returns both communicators. */
    private static List<TcpRingCommunicator> join(
            TcpRingCommunicator.Endpoint a, RingAuth authA, TcpRingCommunicator.Endpoint b, RingAuth authB)
            throws Exception {
        List<String> peers = List.of(a.address(), b.address());
        CompletableFuture<TcpRingCommunicator> one =
                CompletableFuture.supplyAsync(() -> b.connect(1, peers, "s-1", authB, () -> false));
        TcpRingCommunicator zero = a.connect(0, peers, "s-1", authA, () -> false);
        return List.of(zero, one.get(40, TimeUnit.SECONDS));
    }

    private static int port(TcpRingCommunicator.Endpoint e) {
        return Integer.parseInt(e.address().substring(e.address().lastIndexOf(':') + 1));
    }

    @Test
    void strangersDuringFormationAreDroppedAndTheRingFormsAtOnce() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            TcpRingCommunicator.Endpoint a = TcpRingCommunicator.open("127.0.0.1", CONFIG);
            TcpRingCommunicator.Endpoint b = TcpRingCommunicator.open("127.0.0.1", CONFIG);
            // queued before the real members: garbage on rank 0's port, a forged hello on rank 1's
            try (Socket garbage = new Socket("127.0.0.1", port(a))) {
                OutputStream out = garbage.getOutputStream();
                out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Socket forger = new Socket("127.0.0.1", port(b)); // in rank 1's backlog before rank 0 connects
                CompletableFuture<Stranger.Kind> forged = CompletableFuture.supplyAsync(() -> {
                    try {
                        return Stranger.visit(forger, "s-1", 5000);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                long t0 = System.nanoTime();
                List<TcpRingCommunicator> ring = join(a, RingAuth.withKey(KEY), b, RingAuth.withKey(KEY));
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertEquals(Stranger.Kind.RING, forged.get(10, TimeUnit.SECONDS), "the forger met a ring port");
                assertTrue(ms < 5_000, "ring formed in " + ms + " ms despite the strangers (connect timeout 30 s)");
                float[] x = {1, 2, 3};
                float[] y = {10, 20, 30};
                CompletableFuture<Void> r1 =
                        CompletableFuture.runAsync(() -> ring.get(1).allReduce(y, ReduceOp.SUM));
                ring.get(0).allReduce(x, ReduceOp.SUM);
                r1.get(10, TimeUnit.SECONDS);
                assertArrayEquals(new float[] {11, 22, 33}, x);
                assertArrayEquals(x, y);
                ring.forEach(TcpRingCommunicator::close);
            }
        });
    }

    @Test
    void anEncryptedRingReducesExactlyLikeAPlainOne() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            int n = 600_001; // 2.4 MB: with 2 connections, two stripes (each connection has its own keys)
            float[][] results = new float[4][];
            for (int k = 0; k < 4; k++) {
                boolean encrypt = k % 2 == 1;
                CommConfig cfg = CONFIG.withConnections(1 + k / 2);
                RingAuth auth = encrypt ? RingAuth.withKey(KEY).encrypting() : RingAuth.withKey(KEY);
                List<TcpRingCommunicator> ring = join(
                        TcpRingCommunicator.open("127.0.0.1", cfg),
                        auth,
                        TcpRingCommunicator.open("127.0.0.1", cfg),
                        auth);
                float[] x = CommunicatorContractTest.data(0, n, 7);
                float[] y = CommunicatorContractTest.data(1, n, 7);
                CompletableFuture<Void> r1 =
                        CompletableFuture.runAsync(() -> ring.get(1).allReduce(y, ReduceOp.SUM));
                ring.get(0).allReduce(x, ReduceOp.SUM);
                r1.get(20, TimeUnit.SECONDS);
                assertArrayEquals(x, y, "bitwise identical on both ranks");
                results[k] = x;
                ring.forEach(TcpRingCommunicator::close);
            }
            for (int k = 1; k < 4; k++) {
                assertArrayEquals(results[0], results[k], "encryption and connections do not change the result " + k);
            }
        });
    }

    @Test
    void aMemberWithoutTheKeyCannotJoin() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            CommConfig quick = CONFIG.withConnectTimeout(Duration.ofSeconds(3));
            TcpRingCommunicator.Endpoint a = TcpRingCommunicator.open("127.0.0.1", quick);
            TcpRingCommunicator.Endpoint b = TcpRingCommunicator.open("127.0.0.1", quick);
            byte[] other = RingAuth.derive("another-secret".getBytes(StandardCharsets.UTF_8), "ring", "1");
            List<String> peers = List.of(a.address(), b.address());
            CompletableFuture<TcpRingCommunicator> one =
                    CompletableFuture.supplyAsync(() -> b.connect(1, peers, "s-1", RingAuth.withKey(KEY), () -> false));
            CommException e = assertThrows(
                    CommException.class, () -> a.connect(0, peers, "s-1", RingAuth.withKey(other), () -> false));
            Exception e1 = assertThrows(Exception.class, () -> one.get(20, TimeUnit.SECONDS));
            // each drops the other's hello (MAC under another key), or finds the other already gone after its own
            // failure (which side fails first is a race): neither joins, and both say the secret is not shared
            for (String m : List.of(e.getMessage(), e1.getMessage())) {
                assertTrue(m.contains("failed authentication") && m.contains("do not share this job's secret"), m);
            }
        });
    }

    @Test
    void aKillRequestStopsRingSetUpWithinASlice() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            TcpRingCommunicator.Endpoint a = TcpRingCommunicator.open("127.0.0.1", CONFIG);
            TcpRingCommunicator.Endpoint silent = TcpRingCommunicator.open("127.0.0.1", CONFIG); // never joins
            long t0 = System.nanoTime();
            long killAt = t0 + TimeUnit.MILLISECONDS.toNanos(500);
            CommException e = assertThrows(
                    CommException.class,
                    () -> a.connect(
                            0,
                            List.of(a.address(), silent.address()),
                            "s-1",
                            RingAuth.withKey(KEY),
                            () -> System.nanoTime() > killAt));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            silent.close();
            assertTrue(e.getMessage().contains("killed"), e.getMessage());
            assertTrue(ms < 3_000, "stopped " + ms + " ms after start (kill at 500 ms, connect timeout 30 s)");
        });
    }
}
