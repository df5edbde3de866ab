package io.qsync.bench.gpu;

import io.qsync.comm.CommConfig;
import io.qsync.comm.TcpRingCommunicator;
import io.qsync.lowprec.cuda.CudaTensorOps;
import io.qsync.lowprec.train.Tensor;
import io.qsync.profile.Profiler;
import io.qsync.runtime.Medians;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * The gradient all-reduce of two ranks over loopback TCP (the Profiler's link measurement) under the conditions it
 * meets in training, to find what the Profiler misses: on the H100 host, training's late rank spent 3.4-4.8 ms in a 9.4
 * MB exchange that the Profiler timed at 2.6-3.4 ms. Each round runs, interleaved: buffers reused (the Profiler's
 * case), buffers rotated through a pool larger than the caches (cold), pinned buffers just written by a device-to-host
 * copy (training's case), and the latter with the last rank 2 and 20 ms late (asleep meanwhile). Prints the medians and
 * their ratios to the reused case.
 *
 * <p>Usage: {@code ExchangeConditionsBench <out.txt> [floats] [rounds]} (default 2 350 000 floats, the VGG-style
 * CNN's gradient, and 41 rounds).
 */
public final class ExchangeConditionsBench {
    private ExchangeConditionsBench() {}

    /** @param args output file, optional float count and rounds */
    public static void main(String[] args) throws Exception {
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 2_350_000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 41;
        int pool = (int) Math.max(2, (512L << 20) / (8L * n));
        CommConfig cfg = CommConfig.defaults();
        StringBuilder out = new StringBuilder();
        try (CudaTensorOps ops = CudaTensorOps.open(0, false);
                TcpRingCommunicator.Endpoint e0 = TcpRingCommunicator.open("127.0.0.1", cfg);
                TcpRingCommunicator.Endpoint e1 = TcpRingCommunicator.open("127.0.0.1", cfg)) {
            List<String> peers = List.of(e0.address(), e1.address());
            CompletableFuture<TcpRingCommunicator> f1 = CompletableFuture.supplyAsync(() -> e1.connect(1, peers, "x"));
            try (TcpRingCommunicator c0 = e0.connect(0, peers, "x");
                    TcpRingCommunicator c1 = f1.join()) {
                FloatBuffer[] a = new FloatBuffer[pool];
                FloatBuffer[] b = new FloatBuffer[pool];
                for (int i = 0; i < pool; i++) {
                    a[i] = direct(n);
                    b[i] = direct(n);
                }
                Tensor d0 = ops.allocate("rank 0 gradient", n);
                Tensor d1 = ops.allocate("rank 1 gradient", n);
                ops.fill(d0, 1e-3f);
                ops.fill(d1, 2e-3f);
                FloatBuffer h0 = ops.hostBuffer("rank 0 host gradient", n);
                FloatBuffer h1 = ops.hostBuffer("rank 1 host gradient", n);
                String[] names = {
                    "reused (Profiler)", "cold pool", "pinned after D2H", "pinned, 2 ms late", "pinned, 20 ms late"
                };
                double[][] t = new double[names.length][rounds];
                for (int r = 0; r < 20 + rounds; r++) { // 20 unmeasured rounds: the ring's code compiles
                    int k = 1 + r % (pool - 1);
                    double[] v = {
                        Profiler.lateSeconds(c0, c1, a[0], b[0], 0),
                        Profiler.lateSeconds(c0, c1, a[k], b[k], 0),
                        pinned(ops, d0, d1, h0, h1, c0, c1, 0),
                        pinned(ops, d0, d1, h0, h1, c0, c1, 2_000_000),
                        pinned(ops, d0, d1, h0, h1, c0, c1, 20_000_000)
                    };
                    if (r >= 20) {
                        for (int c = 0; c < v.length; c++) {
                            t[c][r - 20] = v[c];
                        }
                    }
                }
                double base = Medians.of(t[0]);
                out.append(String.format(
                        Locale.ROOT,
                        "all-reduce of %d floats (%.1f MB), 2 ranks over loopback TCP, %d rounds, cold pool of %d pairs%n",
                        n,
                        4e-6 * n,
                        rounds,
                        pool - 1));
                for (int c = 0; c < names.length; c++) {
                    double m = Medians.of(t[c]);
                    out.append(String.format(Locale.ROOT, "%-22s %7.3f ms  x%.2f%n", names[c], m * 1e3, m / base));
                }
            }
        }
        System.out.print(out);
        Files.writeString(Path.of(args[0]), out.toString());
    }

    private static double pinned(
            CudaTensorOps ops,
            Tensor d0,
            Tensor d1,
            FloatBuffer h0,
            FloatBuffer h1,
            TcpRingCommunicator c0,
            TcpRingCommunicator c1,
            long lagNanos) {
        ops.download(d0, h0.clear());
        ops.download(d1, h1.clear());
        return Profiler.lateSeconds(c0, c1, h0, h1, lagNanos);
    }

    private static FloatBuffer direct(int n) {
        return ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
