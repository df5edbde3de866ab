package io.qsync.bench;

import io.qsync.comm.CommConfig;
import io.qsync.comm.Communicator;
import io.qsync.comm.ReduceOp;
import io.qsync.comm.RingAuth;
import io.qsync.comm.TcpRingCommunicator;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Two-process loopback benchmark of the encrypted ring all-reduce (AES-256-GCM frames, what a job gets when Spark
 * encrypts its traffic) against the plain one, in the style of {@link RingAllReduceBench}.
 *
 * <p>The parent (rank 0) spawns a child JVM (rank 1). Both build two rings over loopback, one plain and one with
 * {@link RingAuth#encrypting()} (both authenticated), and time in-place SUM all-reduces of N/4 floats in a direct
 * buffer, alternating plain and encrypted repetitions (so slow minutes of the shared machine fall on both alike), each
 * after a barrier. Ratio = median(plain) / median(encrypted): the encrypted ring's share of the plain ring's
 * bandwidth (1.0 = encryption is free).
 *
 * <p>Usage: {@code EncryptedAllReduceBench <results.md> [reps]}.
 */
public final class EncryptedAllReduceBench {
    private static final int[] SIZES_MB = {4, 64};
    private static final int WARMUP = 5;
    private static final byte[] KEY = RingAuth.derive("bench-secret".getBytes(StandardCharsets.UTF_8), "ring");

    private EncryptedAllReduceBench() {}

    /** Entry point: parent mode, or {@code --child reps} when spawned. */
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--child")) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            run(1, Integer.parseInt(args[1]), in, new PrintWriter(System.out, true, StandardCharsets.UTF_8), null);
            return;
        }
        Path results = Path.of(args.length > 0 ? args[0] : "benchmarks/results/encrypted-allreduce.md");
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        Process child = ChildJvm.start(EncryptedAllReduceBench.class, "--child", Integer.toString(reps));
        try {
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            ChildJvm.finish(
                    child,
                    run(
                            0,
                            reps,
                            in,
                            new PrintWriter(child.getOutputStream(), true, StandardCharsets.UTF_8),
                            String.join(" ", args)),
                    results);
        } finally {
            child.destroyForcibly();
        }
    }

    /** Joins a 2-rank ring with {@code auth}, exchanging addresses with the other process. */
    private static Communicator ring(int rank, RingAuth auth, BufferedReader in, PrintWriter out, String name)
            throws Exception {
        CommConfig cfg =
                new CommConfig(Duration.ofSeconds(60), Duration.ofSeconds(120), CommConfig.DEFAULT_CHUNK_BYTES);
        TcpRingCommunicator.Endpoint ep = TcpRingCommunicator.open("127.0.0.1", cfg);
        out.println("ADDR " + ep.address());
        String line = in.readLine();
        while (line != null && !line.startsWith("ADDR ")) {
            line = in.readLine();
        }
        String theirs = line.substring(5);
        List<String> peers = rank == 0 ? List.of(ep.address(), theirs) : List.of(theirs, ep.address());
        return ep.connect(rank, peers, name, auth, () -> false);
    }

    private static String run(int rank, int reps, BufferedReader in, PrintWriter out, String argsText)
            throws Exception {
        StringBuilder rows = new StringBuilder();
        try (Communicator plain = ring(rank, RingAuth.withKey(KEY), in, out, "plain");
                Communicator sealed = ring(rank, RingAuth.withKey(KEY).encrypting(), in, out, "sealed")) {
            for (int mb : SIZES_MB) {
                int bytes = mb << 20;
                FloatBuffer floats = ByteBuffer.allocateDirect(bytes)
                        .order(ByteOrder.nativeOrder())
                        .asFloatBuffer();
                for (int i = 0; i < floats.capacity(); i++) {
                    floats.put(i, (i % 1000) * 0.001f + rank);
                }
                long[] p = new long[reps];
                long[] e = new long[reps];
                for (int r = -WARMUP; r < reps; r++) {
                    for (Communicator c : new Communicator[] {plain, sealed}) {
                        c.barrier();
                        long t0 = System.nanoTime();
                        c.allReduce(floats, ReduceOp.SUM);
                        long t = System.nanoTime() - t0;
                        if (r >= 0) {
                            (c == plain ? p : e)[r] = t;
                        }
                    }
                }
                double mp = ChildJvm.median(p) / 1e6;
                double me = ChildJvm.median(e) / 1e6;
                rows.append(String.format(
                        "| %d MiB | %.2f | %.1f | %.2f | %.1f | %.3f |%n",
                        mb, mp, bytes / mp / 1e3, me, bytes / me / 1e3, mp / me));
            }
        }
        if (rank != 0) {
            return null;
        }
        return "# Encrypted vs plain ring all-reduce (2 processes, loopback)\n\n" + ChildJvm.machine()
                + "- Chunk 1 MiB; " + reps + " alternating repetitions of each ring (median) after " + WARMUP
                + " warm-up rounds; arguments: `" + argsText + "`\n\n"
                + "Encrypted = AES-256-GCM on every frame (JDK provider), per-direction keys; both rings authenticated. "
                + "Ratio = median(plain) / median(encrypted) = the encrypted ring's share of the plain ring's bandwidth.\n\n"
                + "| buffer N | plain ms | plain MB/s | encrypted ms | encrypted MB/s | ratio |\n|---|---|---|---|---|---|\n"
                + rows;
    }
}
