package io.qsync.planner.replay;

import io.qsync.planner.cost.CoRunScaling;
import io.qsync.planner.cost.CostModel;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.cost.Interconnect;
import io.qsync.planner.graph.LayerGraph;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Predicts one synchronous iteration of a hybrid cluster, as {@code io.qsync.runtime.SyncStep} runs it: every worker
 * computes forward and backward of its shard while the flat FP32 gradient is all-reduced (SUM) in buckets that
 * overlap the backward pass ({@link BucketSchedule}: a bucket's ring collective starts once every worker's backward
 * has produced it and the previous collective is done; the last bucket carries the loss), then the updater step. A
 * collective runs at the slowest link of the ring; in steady state the iteration ends with the last collective, so it
 * takes {@code max_i(busy_i)} plus the part of the all-reduce not hidden behind the slowest worker's backward pass,
 * where busy = overhead + forward + backward + casts + optimizer. With one bucket (the default
 * {@value #DEFAULT_BUCKET_BYTES} bytes on a small network, or 0) nothing is hidden: {@code max_i(busy_i) + allReduce}.
 * Where the profiles carry a co-run's step-to-step jitter, the iteration also waits for the latest worker beyond the
 * slowest one's typical step ({@link StepJitter}): this matters where workers are balanced. Workers of one type with
 * {@code count == 0} are left out.
 */
public final class Replayer {
    /** The trainer's default bucket ({@code spark.qsync.comm.bucketBytes}): 25 MiB, as PyTorch DDP. */
    public static final long DEFAULT_BUCKET_BYTES = 25L << 20;

    private final LayerGraph graph;
    private final MemoryEstimator memory;
    private final long bucketBytes;
    private final Interconnect hostLink;
    private final int perHost;
    private final Map<DeviceProfile, Map<Integer, WorkerModel>> models = new IdentityHashMap<>();
    private final Map<DeviceProfile, DeviceProfile> alone = new IdentityHashMap<>();

    /**
     * @param graph  network
     * @param memory memory model
     */
    public Replayer(LayerGraph graph, MemoryEstimator memory) {
        this(graph, memory, DEFAULT_BUCKET_BYTES);
    }

    /**
     * @param graph       network
     * @param memory      memory model
     * @param bucketBytes the trainer's bucket size ({@code spark.qsync.comm.bucketBytes}; 0: one all-reduce after the
     *                    backward pass)
     */
    public Replayer(LayerGraph graph, MemoryEstimator memory, long bucketBytes) {
        this(graph, memory, bucketBytes, null, 1);
    }

    private Replayer(LayerGraph graph, MemoryEstimator memory, long bucketBytes, Interconnect hostLink, int perHost) {
        if (bucketBytes < 0) {
            throw new IllegalArgumentException("bucketBytes must be >= 0 (0 = no overlap), got " + bucketBytes);
        }
        this.graph = graph;
        this.memory = memory;
        this.bucketBytes = bucketBytes;
        this.hostLink = hostLink;
        this.perHost = perHost;
    }

    /**
     * The same replayer for a cluster whose workers share hosts {@code perHost} at a time and reduce among themselves
     * over {@code hostLink} (NCCL among a host's GPU workers, {@code spark.qsync.comm.collective}), the hosts' leaders
     * over the ring at the slowest worker link ({@link Interconnect#twoLevelAllReduceSeconds}).
     *
     * @throws IllegalArgumentException if {@code perHost < 1}
     */
    public Replayer withHostCollective(Interconnect hostLink, int perHost) {
        if (perHost < 1 || hostLink == null) {
            throw new IllegalArgumentException(
                    "a host collective needs a link and >= 1 worker per host, got " + hostLink + ", " + perHost);
        }
        return new Replayer(graph, memory, bucketBytes, hostLink, perHost);
    }

    /** Seconds of one all-reduce of {@code bytes} among {@code n} workers whose slowest link is {@code link}. */
    private BucketSchedule.AllReduceCost allReduce(Interconnect link, int n) {
        if (hostLink == null || perHost <= 1) {
            return (bytes, lag) -> {
                double together = link.ringAllReduceSeconds(bytes, n);
                return together * link.factorAfterLag(lag, together);
            };
        }
        int hosts = (n + perHost - 1) / perHost;
        int local = Math.min(perHost, n);
        return (bytes, lag) -> link.twoLevelAllReduceSeconds(bytes, local, hosts, hostLink);
    }

    /** @return the network */
    public LayerGraph graph() {
        return graph;
    }

    /** @return the memory model */
    public MemoryEstimator memory() {
        return memory;
    }

    /**
     * @param w worker type
     * @return its cached iteration model
     */
    public WorkerModel model(WorkerSpec w) {
        return models.computeIfAbsent(w.device(), d -> new java.util.HashMap<>())
                .computeIfAbsent(w.batch(), b -> new WorkerModel(graph, new CostModel(w.device()), b));
    }

    /**
     * The all-reduce's cost if none of it were hidden (the allocators' budget uses it as an upper bound).
     *
     * @param workers cluster
     * @return seconds of the bucket collectives (gradient and loss) at the slowest link
     */
    public double collectiveSeconds(List<WorkerSpec> workers) {
        List<WorkerSpec> act = cluster(workers);
        double[] busy = new double[act.size()];
        List<double[]> ends = new ArrayList<>();
        for (int i = 0; i < act.size(); i++) {
            ends.add(new double[graph.nodes().size()]);
        }
        return BucketSchedule.of(graph, bucketBytes, ends, busy, allReduce(slowestLink(act), size(act)))
                .collectiveSeconds();
    }

    /**
     * Fast path used by the allocator: the steady-state iteration time only.
     *
     * @param workers cluster
     * @return seconds
     */
    public double clusterSeconds(List<WorkerSpec> workers) {
        List<WorkerSpec> act = cluster(workers);
        double[] busy = new double[act.size()];
        return schedule(act, null, null, busy).end() + jitterSeconds(act, busy);
    }

    /**
     * The expected wait for the latest worker beyond the slowest one's typical step ({@link StepJitter}), each worker's
     * compute varying by its profile's co-run jitter ({@link CoRunScaling.Factors#jitter}), any two
     * correlated by the profiles' mean step correlation.
     */
    private static double jitterSeconds(List<WorkerSpec> act, double[] busy) {
        int n = size(act);
        double[] b = new double[n];
        double[] j = new double[n];
        double rho = 0;
        int k = 0;
        for (int i = 0; i < act.size(); i++) {
            WorkerSpec w = act.get(i);
            CoRunScaling.Factors f = w.device().coRun();
            rho += (f == null ? 0 : f.stepCorrelation()) / act.size();
            for (int c = 0; c < w.count() && w.batch() > 0; c++, k++) {
                b[k] = busy[i];
                j[k] = f == null ? 0 : f.jitter();
            }
        }
        return StepJitter.excessSeconds(b, j, rho);
    }

    /**
     * Evaluates every worker (filling {@code lines}/{@code parts} when non-null, and {@code busy}) and schedules the
     * buckets.
     */
    private BucketSchedule schedule(
            List<WorkerSpec> act, List<List<TimelineNode>> lines, List<WorkerModel.Breakdown> parts, double[] busy) {
        List<double[]> ends = new ArrayList<>();
        for (int i = 0; i < act.size(); i++) {
            WorkerSpec w = act.get(i);
            double[] end = new double[graph.nodes().size()];
            List<TimelineNode> line = lines == null ? null : new ArrayList<>();
            WorkerModel.Breakdown b = model(w).evaluate(w.plan(), line, 0, end);
            busy[i] = b.busy();
            ends.add(end);
            if (lines != null) {
                lines.add(line);
                parts.add(b);
            }
        }
        return BucketSchedule.of(graph, bucketBytes, ends, busy, allReduce(slowestLink(act), size(act)));
    }

    /**
     * Full replay with timelines, memory and the critical path.
     *
     * @param workers cluster
     * @return the prediction
     */
    public ReplayResult replay(List<WorkerSpec> workers) {
        List<WorkerSpec> act = cluster(workers);
        Interconnect link = slowestLink(act);
        int n = size(act);
        List<List<TimelineNode>> lines = new ArrayList<>();
        List<WorkerModel.Breakdown> parts = new ArrayList<>();
        double[] busy = new double[act.size()];
        BucketSchedule sched = schedule(act, lines, parts, busy);
        double arrive = 0;
        for (WorkerModel.Breakdown b : parts) {
            arrive = Math.max(arrive, b.busy());
        }
        double jitter = jitterSeconds(act, busy);
        double cluster = sched.end() + jitter;
        double exposed = cluster - arrive;
        List<WorkerReplay> out = new ArrayList<>();
        int critical = 0;
        for (int i = 0; i < act.size(); i++) {
            WorkerSpec w = act.get(i);
            WorkerModel.Breakdown b = parts.get(i);
            List<TimelineNode> line = lines.get(i);
            double wait = arrive - b.busy();
            if (wait > 0) {
                line.add(new TimelineNode("WAIT", "wait for slowest worker", b.busy(), wait));
            } else {
                critical = i;
            }
            for (BucketSchedule.Bucket k : sched.buckets()) {
                line.add(new TimelineNode(
                        "ALLREDUCE",
                        "gradient bucket [" + k.from() + ", " + k.to() + ")" + (k.from() == 0 ? " + loss" : ""),
                        k.start(),
                        k.seconds()));
            }
            long peak =
                    memory.peakBytes(graph, w.plan(), w.batch()) + w.device().contextBytes();
            out.add(new WorkerReplay(
                    w.name(),
                    w.device().name(),
                    w.count(),
                    w.batch(),
                    b.forward(),
                    b.backward(),
                    b.casts(),
                    b.overhead(),
                    b.optimizer(),
                    exposed,
                    wait,
                    b.busy() + exposed,
                    peak,
                    w.device().memoryBytes(),
                    line));
        }
        String path = CriticalPath.describe(out, critical, cluster, link, n, sched);
        if (jitter > 0) {
            path += String.format(
                    Locale.ROOT,
                    "  + %.3f ms expected wait for the latest worker (step-to-step jitter measured in the co-run)%n",
                    1e3 * jitter);
        }
        return new ReplayResult(out, cluster, link.name(), path);
    }

    /**
     * The active workers; a worker that trains with no other takes its profile as measured alone ({@link
     * DeviceProfile#alone()}: without the factors of a co-run beside other workers).
     */
    private List<WorkerSpec> cluster(List<WorkerSpec> workers) {
        List<WorkerSpec> act = active(workers);
        if (size(act) != 1) {
            return act;
        }
        WorkerSpec w = act.get(0);
        DeviceProfile d = alone.computeIfAbsent(w.device(), DeviceProfile::alone);
        return d == w.device() ? act : List.of(new WorkerSpec(w.name(), d, w.plan(), w.batch(), w.count()));
    }

    private static List<WorkerSpec> active(List<WorkerSpec> workers) {
        List<WorkerSpec> act =
                workers.stream().filter(w -> w.count() > 0 && w.batch() > 0).toList();
        if (act.isEmpty()) {
            throw new IllegalArgumentException("The cluster has zero workers: give at least one device type a count "
                    + ">= 1 and a batch >= 1 (e.g. --devices V100:1,T4:1)");
        }
        return act;
    }

    private static int size(List<WorkerSpec> workers) {
        return workers.stream()
                .filter(w -> w.batch() > 0)
                .mapToInt(WorkerSpec::count)
                .sum();
    }

    private static Interconnect slowestLink(List<WorkerSpec> workers) {
        Interconnect slow = null;
        Interconnect mostWaited = null;
        double lat = 0;
        for (WorkerSpec w : active(workers)) {
            Interconnect l = w.device().interconnect();
            if (slow == null || l.bandwidthBytesPerSec() < slow.bandwidthBytesPerSec()) {
                slow = l;
            }
            if (mostWaited == null || l.waitedFactor() > mostWaited.waitedFactor()) {
                mostWaited = l;
            }
            lat = Math.max(lat, l.latencySeconds());
        }
        return new Interconnect(
                slow.name(), slow.bandwidthBytesPerSec(), lat, mostWaited.waitedFactor(), mostWaited.waitCurve());
    }
}
