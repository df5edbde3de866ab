package io.qsync.planner.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.planner.cost.CastPolicy;
import io.qsync.planner.cost.DeviceCatalog;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.cost.Interconnect;
import io.qsync.planner.cost.LinearCost;
import io.qsync.planner.cost.Roofline;
import io.qsync.planner.graph.LayerGraph;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplayerTest {
    private final LayerGraph g = TestGraphs.chain(3);
    private final Replayer r = new Replayer(g, new PredictorMemory());

    private static Map<String, Precision> plan(Object... kv) {
        Map<String, Precision> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (Precision) kv[i + 1]);
        }
        return m;
    }

    private List<TimelineNode> casts(DeviceProfile d, Map<String, Precision> p) {
        WorkerSpec w = new WorkerSpec("w", d, p, 32, 1);
        return r.replay(List.of(w)).workers().get(0).timeline().stream()
                .filter(t -> t.kind().equals("CAST"))
                .toList();
    }

    @Test
    void uniformFp32HasNoCastNodes() {
        assertTrue(casts(DeviceCatalog.get("T4"), Map.of()).isEmpty());
    }

    @Test
    void castNodesWhereNeighboursDiffer() {
        // conv_0 FP16 -> act_0 inherits FP16 -> conv_1 INT8 (cast FP16->INT8) -> act_1 FP32 -> conv_2 FP32
        List<String> labels =
                casts(DeviceCatalog.get("T4"), plan("conv_0", Precision.FP16, "conv_1", Precision.INT8)).stream()
                        .map(TimelineNode::label)
                        .toList();
        assertTrue(labels.contains("conv_0 in->FP16"), labels.toString());
        assertTrue(labels.contains("conv_1 in->INT8"), labels.toString());
        assertTrue(labels.contains("conv_1 dequant"), labels.toString());
        assertTrue(labels.contains("conv_1 dW->FP32") && labels.contains("conv_0 dW->FP32"), labels.toString());
        // backward: conv_2 and act_1 run FP32, so the FP32 gradient reaching conv_1 (INT8 forward, FP16 backward) is
        // cast
        // to FP16 at conv_1's input; conv_1 emits an FP16 gradient, and act_0 runs FP16 backward: no cast there
        assertTrue(labels.contains("conv_1 grad->FP16"), labels.toString());
        assertTrue(!labels.contains("act_1 grad->FP16"), labels.toString());
        assertTrue(!labels.contains("act_0 grad->FP16"), labels.toString());
        assertTrue(!labels.contains("conv_2 in->FP32"), labels.toString());
        Precision[][] res = CastRules.resolve(g, plan("conv_0", Precision.FP16, "conv_1", Precision.INT8));
        Map<String, Integer> idx = g.indexById();
        assertEquals(Precision.FP16, res[idx.get("act_0")][0]);
        assertEquals(Precision.FP32, res[idx.get("act_1")][0]);
        assertEquals(Precision.FP32, res[idx.get("output_0")][0]);
    }

    @Test
    void inLayerPolicyHasNoCastNodes() {
        DeviceProfile cpu = cpu("cpu", 1e9);
        assertTrue(casts(cpu, plan("conv_0", Precision.FP16, "conv_1", Precision.INT8))
                .isEmpty());
    }

    @Test
    void clusterWaitsForSlowestAndRunsAtSlowestLink() {
        DeviceProfile fast = cpu("fast", 1e10);
        DeviceProfile slow = cpu("slow", 1e9);
        List<WorkerSpec> ws =
                List.of(new WorkerSpec("a", fast, Map.of(), 32, 1), new WorkerSpec("b", slow, Map.of(), 32, 1));
        ReplayResult res = r.replay(ws);
        WorkerReplay a = res.worker("a");
        WorkerReplay b = res.worker("b");
        // one bucket (the network is far below 25 MiB) with the loss folded in
        double ar = 2 * (5e-5 + (4.0 * g.totalParams() + 4) / 2 / 1e8);
        assertEquals(b.busySeconds() + ar, res.clusterSeconds(), 1e-12);
        assertEquals(b.busySeconds() - a.busySeconds(), a.waitSeconds(), 1e-12);
        assertEquals(0, b.waitSeconds(), 1e-15);
        assertEquals(res.clusterSeconds(), r.clusterSeconds(ws), 1e-12);
        assertTrue(
                res.criticalPath().contains("b (slow") && res.criticalPath().contains("a waits"), res.criticalPath());
        assertTrue(b.peakMemoryBytes() > 0);
    }

    @Test
    void aHostCollectiveReducesInsideHostsAndRingsOnlyTheLeaders() {
        DeviceProfile d = cpu("gpu", 1e10);
        List<WorkerSpec> eight = List.of(new WorkerSpec("g", d, Map.of(), 32, 8));
        Interconnect nvlink = new Interconnect("nvlink", 1e11, 5e-6);
        Replayer twoLevel = r.withHostCollective(nvlink, 4);
        double bytes = 4.0 * g.totalParams() + 4;
        double flat = 2 * 7 * (5e-5 + bytes / 8 / 1e8);
        double local = 2 * 3 * (5e-6 + bytes / 4 / 1e11);
        double leaders = 2 * 1 * (5e-5 + bytes / 2 / 1e8);
        double broadcast = 3 * 5e-6 + bytes / 1e11;
        assertEquals(flat, r.collectiveSeconds(eight), 1e-12);
        assertEquals(local + leaders + broadcast, twoLevel.collectiveSeconds(eight), 1e-12);
        assertTrue(twoLevel.clusterSeconds(eight) < r.clusterSeconds(eight), "two levels beat the flat ring here");
        // one worker per host: no host level, the ring of all workers
        assertEquals(flat, r.withHostCollective(nvlink, 1).collectiveSeconds(eight), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> r.withHostCollective(nvlink, 0));
    }

    @Test
    void bucketsHideTheirAllReduceBehindTheRestOfTheBackwardPass() {
        DeviceProfile slow = cpu("slow", 1e8);
        List<WorkerSpec> ws =
                List.of(new WorkerSpec("a", slow, Map.of(), 32, 1), new WorkerSpec("b", slow, Map.of(), 32, 1));
        // two buckets: everything from conv_1 on, then conv_0 (+ act_0, no parameters) with the loss
        long conv1 = 0;
        for (var n : g.nodes()) {
            if (n.id().equals("conv_1")) {
                break;
            }
            conv1 += n.paramCount();
        }
        long total = g.totalParams();
        Replayer overlapped = new Replayer(g, new PredictorMemory(), 4 * (total - conv1));
        Replayer single = new Replayer(g, new PredictorMemory(), 0);
        ReplayResult o = overlapped.replay(ws);
        ReplayResult s1 = single.replay(ws);
        double busy = o.worker("a").busySeconds();
        Interconnect link = slow.interconnect();
        double first = link.ringAllReduceSeconds(4.0 * (total - conv1), 2);
        double last = link.ringAllReduceSeconds(4.0 * conv1 + 4, 2);
        List<TimelineNode> line = o.worker("a").timeline();
        TimelineNode conv0Bwd = line.stream()
                .filter(t -> t.kind().equals("BWD") && t.label().startsWith("conv_0"))
                .findFirst()
                .orElseThrow();
        TimelineNode firstBucket = line.stream()
                .filter(t -> t.kind().equals("ALLREDUCE"))
                .findFirst()
                .orElseThrow();
        // the first bucket starts when conv_1's backward is done, i.e. before conv_0's backward, and ends during it
        assertTrue(firstBucket.start() <= conv0Bwd.start() + 1e-12, line.toString());
        assertTrue(first < conv0Bwd.duration(), "precondition: the first bucket fits inside conv_0's backward");
        assertEquals(busy + last, o.clusterSeconds(), 1e-12, "only the last bucket is exposed");
        assertEquals(busy + link.gradientAllReduceSeconds(total, 2), s1.clusterSeconds(), 1e-12);
        assertEquals(o.clusterSeconds(), overlapped.clusterSeconds(ws), 1e-12);
        assertEquals(first + last, overlapped.collectiveSeconds(ws), 1e-12);
        assertTrue(o.criticalPath().contains("2 bucket(s)") && o.criticalPath().contains("hidden"), o.criticalPath());
    }

    @Test
    void zeroWorkersIsAnError() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> r.replay(List.of(new WorkerSpec("a", cpu("c", 1e9), Map.of(), 32, 0))));
        assertTrue(e.getMessage().contains("zero workers"));
    }

    @Test
    void graphJsonRoundTrip() {
        assertEquals(g, LayerGraph.fromJson(g.toJson()));
    }

    /** A CPU-like profile: FP32 rate, 100 MB/s link with 50 us latency. */
    static DeviceProfile cpu(String name, double flops) {
        return new DeviceProfile(
                name,
                false,
                "test",
                8L << 30,
                List.of(Precision.FP32, Precision.FP16, Precision.INT8),
                CastPolicy.IN_LAYER,
                new Roofline(Map.of(Precision.FP32, flops), 1, 1e10, 1e-6),
                List.of(),
                Map.of(),
                new LinearCost(1e-9, 1e-4),
                Map.of(),
                new Interconnect(name + "-link", 1e8, 5e-5));
    }
}
