package io.qsync.bench;

import io.qsync.comm.CommConfig;
import io.qsync.comm.Communicator;
import io.qsync.comm.ReduceOp;
import io.qsync.comm.TcpRingCommunicator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Two-process loopback benchmark of {@link TcpRingCommunicator#allReduce} against a raw socket copy.
 *
 * <p>The parent (rank 0) spawns a child JVM (rank 1) with the same JVM flags and class path. For each buffer size N
 * bytes it times (a) an in-place SUM all-reduce of N/4 floats in a direct buffer and (b) the baseline: each process
 * simultaneously sends N bytes to the other over one connection and receives N bytes over another (a sender thread and
 * the main thread, blocking NIO with direct buffers, TCP_NODELAY and 4 MiB socket buffers). A 2-rank ring all-reduce
 * moves exactly (N-1)/N*2 = 1x the buffer each way (half in reduce-scatter, half in all-gather), so the baseline moves
 * the same bytes over the same kind of connections with no reduction, framing or pipelining dependencies. Every
 * repetition starts after a {@code barrier()}; the parent reports the median of its own timings after warm-up, and
 * ratio = median(baseline) / median(allReduce) (1.0 = the all-reduce reaches the raw copy's bandwidth).
 *
 * <p>Usage: {@code RingAllReduceBench <results.md> [chunkBytes] [reps] [connections]} (connections per neighbour,
 * default {@link CommConfig#DEFAULT_CONNECTIONS}).
 */
public final class RingAllReduceBench {
    private static final int[] SIZES_MB = {4, 64};
    private static final int WARMUP = 30; // the ring's code (schedules, vector kernel) needs ~20 rounds of JIT

    private RingAllReduceBench() {}

    /** Entry point: parent mode, or {@code --child chunkBytes reps} when spawned. */
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--child")) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
            run(1, Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), in, out, null);
            return;
        }
        Path results = Path.of(args.length > 0 ? args[0] : "benchmarks/results/ring-allreduce.md");
        int chunk = args.length > 1 ? Integer.parseInt(args[1]) : CommConfig.DEFAULT_CHUNK_BYTES;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        int conns = args.length > 3 ? Integer.parseInt(args[3]) : CommConfig.DEFAULT_CONNECTIONS;
        Process child = ChildJvm.start(
                RingAllReduceBench.class,
                "--child",
                Integer.toString(chunk),
                Integer.toString(reps),
                Integer.toString(conns));
        try {
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            PrintWriter out = new PrintWriter(child.getOutputStream(), true, StandardCharsets.UTF_8);
            ChildJvm.finish(child, run(0, chunk, reps, conns, in, out, String.join(" ", args)), results);
        } finally {
            child.destroyForcibly();
        }
    }

    /** Both ranks run this; rank 0 returns the report. {@code in}/{@code out} talk to the other process. */
    private static String run(
            int rank, int chunk, int reps, int conns, BufferedReader in, PrintWriter out, String argsText)
            throws Exception {
        CommConfig cfg = new CommConfig(Duration.ofSeconds(60), Duration.ofSeconds(120), chunk, conns);
        TcpRingCommunicator.Endpoint ep = TcpRingCommunicator.open("127.0.0.1", cfg);
        ServerSocketChannel raw = ServerSocketChannel.open();
        raw.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
        raw.bind(new InetSocketAddress("127.0.0.1", 0));
        String mine = ep.address() + " 127.0.0.1:" + ((InetSocketAddress) raw.getLocalAddress()).getPort();
        out.println("ADDR " + mine);
        String line = in.readLine();
        while (line != null && !line.startsWith("ADDR ")) {
            line = in.readLine();
        }
        String[] theirs = line.substring(5).split(" ");
        String[] ring = rank == 0 ? new String[] {ep.address(), theirs[0]} : new String[] {theirs[0], ep.address()};
        ExecutorService sender = Executors.newSingleThreadExecutor();
        StringBuilder rows = new StringBuilder();
        try (Communicator comm = ep.connect(rank, Arrays.asList(ring), "bench")) {
            String[] hp = theirs[1].split(":");
            SocketChannel to = SocketChannel.open();
            to.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
            to.connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])));
            SocketChannel from = raw.accept();
            for (SocketChannel c : new SocketChannel[] {to, from}) {
                c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                c.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
                c.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
            }
            for (int mb : SIZES_MB) {
                int bytes = mb << 20;
                ByteBuffer data = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
                FloatBuffer floats = data.asFloatBuffer();
                for (int i = 0; i < floats.capacity(); i++) {
                    floats.put(i, (i % 1000) * 0.001f + rank);
                }
                ByteBuffer sendBuf = ByteBuffer.allocateDirect(bytes);
                ByteBuffer recvBuf = ByteBuffer.allocateDirect(bytes);
                long[] ar = new long[reps];
                long[] cp = new long[reps];
                for (int r = -WARMUP; r < reps; r++) {
                    comm.barrier();
                    long t0 = System.nanoTime();
                    comm.allReduce(floats, ReduceOp.SUM);
                    long t1 = System.nanoTime();
                    comm.barrier();
                    long t2 = System.nanoTime();
                    sendBuf.clear();
                    recvBuf.clear();
                    Future<?> f = sender.submit(() -> {
                        while (sendBuf.hasRemaining()) {
                            to.write(sendBuf);
                        }
                        return null;
                    });
                    while (recvBuf.hasRemaining()) {
                        if (from.read(recvBuf) < 0) {
                            throw new IOException("raw peer closed");
                        }
                    }
                    f.get();
                    long t3 = System.nanoTime();
                    if (r >= 0) {
                        ar[r] = t1 - t0;
                        cp[r] = t3 - t2;
                    }
                }
                rows.append(row(mb, bytes, ar, cp));
            }
            to.close();
            from.close();
        } finally {
            sender.shutdownNow();
            raw.close();
        }
        return rank == 0 ? report(chunk, reps, conns, argsText, rows.toString()) : null;
    }

    private static String row(int mb, int bytes, long[] ar, long[] cp) {
        double a = ChildJvm.median(ar) / 1e6;
        double c = ChildJvm.median(cp) / 1e6;
        return String.format(
                "| %d MiB | %.2f | %.2f | %.2f | %.2f | %.3f | %s | %s |%n",
                mb, a, bytes / a / 1e3, c, bytes / c / 1e3, c / a, ms(ar), ms(cp));
    }

    private static String ms(long[] v) {
        StringBuilder b = new StringBuilder();
        for (long x : v) {
            b.append(b.length() == 0 ? "" : " ").append(String.format("%.1f", x / 1e6));
        }
        return b.toString();
    }

    private static String report(int chunk, int reps, int conns, String argsText, String rows) throws IOException {
        return "# Ring all-reduce vs raw loopback copy (2 processes)\n\n" + ChildJvm.machine()
                + "- Chunk size (largest): " + chunk + " bytes; connections per neighbour: " + conns + "; repeats: "
                + reps + " (median) after " + WARMUP + " warm-up rounds\n"
                + "- Arguments: `" + argsText + "`\n\n"
                + "Baseline: each of the two processes simultaneously sends N bytes to the other over one loopback TCP"
                + " connection (sender thread) and receives N bytes over a second one (main thread), blocking NIO with direct"
                + " buffers, TCP_NODELAY and 4 MiB socket buffers. A 2-rank ring all-reduce of an N-byte buffer moves exactly"
                + " (N-1)/N*2 = 1x the buffer each way (N/2 in reduce-scatter + N/2 in all-gather), so both move the same"
                + " bytes; ratio = median(baseline) / median(allReduce) = allReduce's effective bandwidth / raw bandwidth"
                + " (goal >= 0.8). 'MB/s' = N / time (bytes each way per second).\n\n"
                + "| buffer N | allReduce ms | allReduce MB/s | raw copy ms | raw MB/s | ratio | allReduce runs (ms) |"
                + " raw runs (ms) |\n|---|---|---|---|---|---|---|---|\n" + rows;
    }
}
