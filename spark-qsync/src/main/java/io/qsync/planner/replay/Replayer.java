package io.qsync.planner.replay;

import io.qsync.planner.cost.CostModel;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.cost.Interconnect;
import io.qsync.planner.graph.LayerGraph;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Predicts one synchronous iteration of a hybrid cluster, as {@code io.qsync.runtime.SyncStep} runs it: every worker
 * computes forward and backward of its shard, then one ring all-reduce (SUM) of the flat FP32 gradient of all
 * parameters and a 1-float all-reduce of the loss, then the updater step. A collective starts when the last worker
 * arrives and runs at the slowest link of the ring; in steady state the iteration time is therefore
 * {@code max_i(busy_i) + allReduce + lossAllReduce}, where busy = overhead + forward + backward + casts + optimizer.
 * Workers of one type with {@code count == 0} are left out.
 */
public final class Replayer {
    private final LayerGraph graph;
    private final MemoryEstimator memory;
    private final Map<DeviceProfile, Map<Integer, WorkerModel>> models = new IdentityHashMap<>();

    /**
     * @param graph  network
     * @param memory memory model
     */
    public Replayer(LayerGraph graph, MemoryEstimator memory) {
        this.graph = graph;
        this.memory = memory;
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
     * @param workers cluster
     * @return seconds of the gradient all-reduce plus the loss all-reduce at the slowest link
     */
    public double collectiveSeconds(List<WorkerSpec> workers) {
        Interconnect link = slowestLink(workers);
        int n = size(workers);
        return link.ringAllReduceSeconds(4.0 * graph.totalParams(), n) + link.ringAllReduceSeconds(4.0, n);
    }

    /**
     * Fast path used by the allocator: the steady-state iteration time only.
     *
     * @param workers cluster
     * @return seconds
     */
    public double clusterSeconds(List<WorkerSpec> workers) {
        double busy = 0;
        for (WorkerSpec w : active(workers)) {
            busy = Math.max(busy, model(w).evaluate(w.plan(), null, 0).busy());
        }
        return busy + collectiveSeconds(workers);
    }

    /**
     * Full replay with timelines, memory and the critical path.
     *
     * @param workers cluster
     * @return the prediction
     */
    public ReplayResult replay(List<WorkerSpec> workers) {
        List<WorkerSpec> act = active(workers);
        Interconnect link = slowestLink(act);
        int n = size(act);
        double ar = link.ringAllReduceSeconds(4.0 * graph.totalParams(), n);
        double lossAr = link.ringAllReduceSeconds(4.0, n);
        List<List<TimelineNode>> lines = new ArrayList<>();
        List<WorkerModel.Breakdown> parts = new ArrayList<>();
        double arrive = 0;
        for (WorkerSpec w : act) {
            List<TimelineNode> line = new ArrayList<>();
            WorkerModel.Breakdown b = model(w).evaluate(w.plan(), line, 0);
            lines.add(line);
            parts.add(b);
            arrive = Math.max(arrive, b.busy());
        }
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
            line.add(new TimelineNode(
                    "ALLREDUCE", "gradient all-reduce " + (4 * graph.totalParams()) + " B", arrive, ar));
            line.add(new TimelineNode("ALLREDUCE", "loss all-reduce", arrive + ar, lossAr));
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
                    ar + lossAr,
                    wait,
                    b.busy() + ar + lossAr,
                    peak,
                    w.device().memoryBytes(),
                    line));
        }
        double cluster = arrive + ar + lossAr;
        return new ReplayResult(out, cluster, link.name(), CriticalPath.describe(out, critical, cluster, link, n));
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
        double lat = 0;
        for (WorkerSpec w : active(workers)) {
            Interconnect l = w.device().interconnect();
            if (slow == null || l.bandwidthBytesPerSec() < slow.bandwidthBytesPerSec()) {
                slow = l;
            }
            lat = Math.max(lat, l.latencySeconds());
        }
        return new Interconnect(slow.name(), slow.bandwidthBytesPerSec(), lat);
    }
}
