package io.qsync.bench.gpu;

import io.qsync.lowprec.cuda.CudaDevice;
import io.qsync.lowprec.cuda.DeviceAllocator;
import io.qsync.lowprec.cuda.DeviceBuffer;
import io.qsync.lowprec.cuda.NcclGroup;
import io.qsync.lowprec.cuda.NcclHostCollectives;
import io.qsync.lowprec.cuda.NcclPresence;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * NCCL all-reduce bandwidth through {@link NcclGroup} on every GPU of the machine (one thread and one device per
 * rank), as nccl-tests and {@code benchmarks/gpu/nccl_torch_peer.py} measure it: per repetition the ranks line up
 * (a host barrier), enqueue {@value #ITERS} in-place float32 sums back to back on device buffers and wait; the
 * repetition's time per operation is the slowest rank's; the row reports the median over {@value #REPS}
 * repetitions and the bus bandwidth {@code 2(n-1)/n * bytes / time} (the other two rows use the same formula: all-reduce-equivalent bandwidth). Also timed: reduce-to-rank-0 plus broadcast
 * (the alternative that is bitwise identical by construction) and the host-staged all-reduce of
 * {@link NcclHostCollectives} (what {@code NcclCommunicator} does with a worker's host gradient), both at the first
 * size.
 *
 * <p>Usage: {@code NcclAllReduceBench OUT.json [MiB ...]} (default 64 and 1024).
 */
public final class NcclAllReduceBench {
    static final int ITERS = 20;
    static final int REPS = 7;
    static final int WARMUP = 5;
    private static final Duration T = Duration.ofSeconds(120);

    private NcclAllReduceBench() {}

    /** One timed row. */
    record Row(String op, int ranks, long bytes, double msPerOp, double busGBps) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("op", op);
            m.put("ranks", ranks);
            m.put("bytes", bytes);
            m.put("msPerOp", msPerOp);
            m.put("busGBps", busGBps);
            return m;
        }
    }

    public static void main(String[] args) throws Exception {
        String why = NcclPresence.whyUnavailable();
        if (why != null) {
            System.err.println("NCCL unavailable: " + why);
            System.exit(2);
        }
        Path out = Path.of(args.length > 0 ? args[0] : "nccl-bench.json");
        long[] mib = args.length > 1
                ? Arrays.stream(args, 1, args.length).mapToLong(Long::parseLong).toArray()
                : new long[] {64, 1024};
        int n = CudaDevice.count();
        List<Row> rows = new ArrayList<>();
        for (int s = 0; s < mib.length; s++) {
            rows.addAll(measure(n, mib[s] << 20, s == 0));
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("ranks", n);
        result.put("ncclVersion", NcclPresence.version());
        result.put("iters", ITERS);
        result.put("reps", REPS);
        result.put("rows", rows.stream().map(Row::json).toList());
        Files.writeString(out, Json.write(result));
        for (Row r : rows) {
            System.out.printf(
                    Locale.ROOT,
                    "NCCL %-22s ranks=%d bytes=%d ms/op=%.4f busGB/s=%.1f%n",
                    r.op,
                    r.ranks,
                    r.bytes,
                    r.msPerOp,
                    r.busGBps);
        }
    }

    /** The rows of one size: device all-reduce, and (when {@code extras}) reduce+broadcast and host-staged. */
    static List<Row> measure(int n, long bytes, boolean extras) throws Exception {
        byte[] id = NcclGroup.uniqueId();
        CyclicBarrier line = new CyclicBarrier(n);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<double[][]>> fs = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                fs.add(pool.submit(() -> rank(id, rank, n, bytes, extras, line)));
            }
            List<double[][]> perRank = new ArrayList<>();
            for (Future<double[][]> f : fs) {
                perRank.add(f.get(600, TimeUnit.SECONDS));
            }
            String[] ops = {"allReduce", "reduce+broadcast", "allReduce host-staged"};
            List<Row> rows = new ArrayList<>();
            for (int o = 0; o < (extras ? 3 : 1); o++) {
                double[] slowest = new double[REPS];
                for (double[][] t : perRank) {
                    for (int k = 0; k < REPS; k++) {
                        slowest[k] = Math.max(slowest[k], t[o][k]);
                    }
                }
                Arrays.sort(slowest);
                double sec = slowest[REPS / 2];
                rows.add(new Row(ops[o], n, bytes, sec * 1e3, 2.0 * (n - 1) / n * bytes / sec / 1e9));
            }
            return rows;
        } finally {
            pool.shutdownNow();
        }
    }

    /** One rank: seconds per operation of each repetition, per op kind. */
    private static double[][] rank(byte[] id, int rank, int n, long bytes, boolean extras, CyclicBarrier line)
            throws Exception {
        long count = bytes / 4;
        double[][] t = new double[3][REPS];
        try (DeviceAllocator mem = new DeviceAllocator("nccl-bench-" + rank, bytes + (1 << 20));
                NcclGroup g = NcclGroup.join(rank, id, rank, n, T);
                DeviceBuffer b = mem.allocate("x", bytes)) {
            b.fill(0);
            for (int i = 0; i < WARMUP; i++) {
                g.allReduceSum(b.pointer(), count, T);
            }
            for (int k = 0; k < REPS; k++) {
                line.await();
                long t0 = System.nanoTime();
                for (int i = 0; i < ITERS; i++) {
                    g.enqueueAllReduceSum(b.pointer(), count, T);
                }
                g.await("timed all-reduces", T);
                t[0][k] = (System.nanoTime() - t0) / 1e9 / ITERS;
            }
            if (extras) {
                for (int k = 0; k < REPS; k++) {
                    line.await();
                    long t0 = System.nanoTime();
                    for (int i = 0; i < ITERS / 4; i++) {
                        g.reduceSum(b.pointer(), count, 0, T);
                        g.broadcast(b.pointer(), count, 0, T);
                    }
                    t[1][k] = (System.nanoTime() - t0) / 1e9 / (ITERS / 4);
                }
            }
        }
        if (extras) {
            hostStaged(rank, n, count, line, t[2]);
        }
        return t;
    }

    /** The host-staged all-reduce of a heap float array (a fresh group: the first one is closed). */
    private static void hostStaged(int rank, int n, long count, CyclicBarrier line, double[] t) throws Exception {
        byte[] id = HostIds.next(rank, line);
        float[] host = new float[(int) count];
        try (NcclHostCollectives h = new NcclHostCollectives(NcclGroup.join(rank, id, rank, n, T), false)) {
            FloatBuffer[] parts = {FloatBuffer.wrap(host)};
            h.allReduce(parts, 1f, T);
            for (int k = 0; k < REPS; k++) {
                line.await();
                long t0 = System.nanoTime();
                for (int i = 0; i < ITERS / 4; i++) {
                    h.allReduce(parts, 1f, T);
                }
                t[k] = (System.nanoTime() - t0) / 1e9 / (ITERS / 4);
            }
        }
    }

    /** A unique id made by rank 0 and handed to the other rank threads through a shared slot. */
    private static final class HostIds {
        private static volatile byte[] slot;

        static byte[] next(int rank, CyclicBarrier line) throws Exception {
            if (rank == 0) {
                slot = NcclGroup.uniqueId();
            }
            line.await();
            byte[] id = slot;
            line.await();
            return id;
        }
    }
}
