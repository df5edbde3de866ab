package io.qsync.planner.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.planner.cost.DeviceCatalog;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.replay.PredictorMemory;
import io.qsync.planner.replay.Replayer;
import io.qsync.planner.replay.TestGraphs;
import io.qsync.planner.replay.WorkerSpec;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AllocatorTest {
    private final LayerGraph g = TestGraphs.chain(5);
    private final Replayer r = new Replayer(g, new PredictorMemory());

    @Test
    void greedyWithinTenPercentOfExhaustiveAndWithinBudget() {
        for (List<String> mix : List.of(List.of("V100", "T4"), List.of("A100", "A10", "T4"), List.of("H100", "L4"))) {
            for (long seed = 1; seed <= 3; seed++) {
                IndicatorTable omega = TestGraphs.omega(g, seed);
                List<DeviceGroup> groups = mix.stream()
                        .map(n -> new DeviceGroup(n, DeviceCatalog.get(n), 1, 64))
                        .toList();
                Allocation greedy = new GreedyAllocator(r, omega).allocate(groups);
                assertTrue(greedy.clusterSeconds() <= greedy.budgetSeconds() * (1 + 1e-9));
                assertEquals(greedy.clusterSeconds(), r.clusterSeconds(greedy.workers()), 1e-12);
                Allocation exact = new ExhaustiveAllocator(r, omega).optimum(greedy);
                assertTrue(exact.objective() <= greedy.objective() + 1e-12);
                double gap = (greedy.objective() - exact.objective()) / Math.max(exact.objective(), 1e-30);
                assertTrue(
                        gap <= 0.10,
                        mix + " seed " + seed + " gap " + gap + "\n" + greedy.workers() + "\n" + exact.workers() + "\n"
                                + greedy.decisions() + " " + exact.clusterSeconds());
            }
        }
    }

    @Test
    void greedyRaisesOnlyWhileBudgetHolds() {
        IndicatorTable omega = TestGraphs.omega(g, 7);
        Allocation a = new GreedyAllocator(r, omega)
                .allocate(List.of(
                        new DeviceGroup(
                                "V100", DeviceCatalog.get("V100").withPrecisions(List.of(Precision.FP32)), 1, 64),
                        new DeviceGroup("T4", DeviceCatalog.get("T4"), 1, 64)));
        WorkerSpec v100 = a.worker("V100");
        assertTrue(v100.plan().values().stream().allMatch(p -> p == Precision.FP32));
        assertTrue(a.accepted() > 0, a.decisions().toString());
    }

    @Test
    void milpMatchesBruteForce() {
        LayerGraph small = TestGraphs.chain(3);
        IndicatorTable omega = TestGraphs.omega(small, 3);
        PredictorMemory mem = new PredictorMemory(
                new io.qsync.planner.memory.MemoryModel(0, io.qsync.planner.memory.MemoryModel.Accounting.DEVICE));
        List<Precision> menu = List.of(Precision.INT8, Precision.FP16, Precision.FP32);
        long all32 = mem.peakBytes(small, Map.of(), 64);
        long all8 = mem.peakBytes(small, StartPlan.uniform(small.switchableIds(), Precision.INT8), 64);
        long limit = (all32 + all8) / 2;
        Map<String, Precision> milp = MemoryMilp.solve(small, omega, mem, menu, 64, limit, "T4");
        assertTrue(mem.peakBytes(small, milp, 64) <= limit);
        double best = Double.POSITIVE_INFINITY;
        List<String> ids = small.switchableIds();
        for (int code = 0; code < Math.pow(3, ids.size()); code++) {
            Map<String, Precision> p = new java.util.HashMap<>();
            double obj = 0;
            for (int i = 0, c = code; i < ids.size(); i++, c /= 3) {
                p.put(ids.get(i), menu.get(c % 3));
                obj += omega.omega(ids.get(i), menu.get(c % 3));
            }
            if (mem.peakBytes(small, p, 64) <= limit) {
                best = Math.min(best, obj);
            }
        }
        double got =
                ids.stream().mapToDouble(id -> omega.omega(id, milp.get(id))).sum();
        assertEquals(best, got, 1e-9 * Math.max(1, best));
    }

    @Test
    void infeasibleRequestsNameDeviceLayerAndFix() {
        IndicatorTable omega = TestGraphs.omega(g, 1);
        GreedyAllocator alloc = new GreedyAllocator(r, omega);
        InfeasiblePlanException state = assertThrows(
                InfeasiblePlanException.class,
                () -> alloc.allocate(
                        List.of(new DeviceGroup("T4", DeviceCatalog.get("T4").withMemoryBytes(1 << 20), 1, 64))));
        assertTrue(
                state.getMessage().contains("T4 cannot hold the training state")
                        && state.getMessage().contains("(1048576 B) available")
                        && state.getMessage().contains("optimizer state")
                        && state.getMessage().contains("more memory"),
                state.getMessage());
        long fixed = new PredictorMemory().baseBytes(g, 1) + DeviceProfile.DEFAULT_CONTEXT_BYTES;
        InfeasiblePlanException mem = assertThrows(
                InfeasiblePlanException.class,
                () -> alloc.allocate(
                        List.of(new DeviceGroup("T4", DeviceCatalog.get("T4").withMemoryBytes(fixed + 1024), 1, 64))));
        assertTrue(
                mem.getMessage().contains("T4")
                        && mem.getMessage().contains("largest layer is '")
                        && mem.getMessage().contains("smaller batch"),
                mem.getMessage());
        Map<String, Map<Precision, Double>> only8 = new LinkedHashMap<>();
        for (String id : g.switchableIds()) {
            Map<Precision, Double> m = new EnumMap<>(Precision.class);
            m.put(Precision.FP8_E4M3, 1.0);
            only8.put(id, m);
        }
        InfeasiblePlanException menu = assertThrows(
                InfeasiblePlanException.class, () -> new GreedyAllocator(r, new IndicatorTable("fp8only", only8))
                        .allocate(List.of(new DeviceGroup("V100", DeviceCatalog.get("V100"), 1, 64))));
        assertTrue(
                menu.getMessage().contains("V100")
                        && menu.getMessage().contains("conv_0")
                        && menu.getMessage().contains("no precision in common"),
                menu.getMessage());
        InfeasiblePlanException zero = assertThrows(
                InfeasiblePlanException.class,
                () -> alloc.allocate(List.of(new DeviceGroup("T4", DeviceCatalog.get("T4"), 0, 64))));
        assertTrue(zero.getMessage().contains("zero workers"));
    }

    @Test
    void theDevicesOwnContextTermDecidesWhatFits() {
        IndicatorTable omega = TestGraphs.omega(g, 1);
        GreedyAllocator alloc = new GreedyAllocator(r, omega);
        DeviceProfile t4 = DeviceCatalog.get("T4");
        assertEquals(DeviceProfile.DEFAULT_CONTEXT_BYTES, t4.contextBytes(), "catalog devices assume the default");
        assertEquals(t4.memoryBytes() - DeviceProfile.DEFAULT_CONTEXT_BYTES, t4.modelBudgetBytes());
        long model = r.memory().peakBytes(g, Map.of(), 64);
        // a measured context that leaves less than the FP32 plan needs: the planner must lower precisions or fail
        DeviceProfile tight = t4.withContextBytes(t4.memoryBytes() - model / 2);
        InfeasiblePlanException e = assertThrows(
                InfeasiblePlanException.class,
                () -> alloc.allocate(
                        List.of(new DeviceGroup("T4", tight.withPrecisions(List.of(Precision.FP32)), 1, 64))));
        assertTrue(e.getMessage().contains("context"), e.getMessage());
        Allocation roomy = alloc.allocate(List.of(new DeviceGroup(
                "T4",
                t4.withContextBytes(t4.memoryBytes() - 2 * model).withPrecisions(List.of(Precision.FP32)),
                1,
                64)));
        assertTrue(r.replay(roomy.workers()).workers().get(0).peakMemoryBytes() <= t4.memoryBytes());
        String json = tight.toJson();
        assertEquals(tight.contextBytes(), DeviceProfile.fromJson(json).contextBytes(), "the context survives JSON");
        assertEquals(
                DeviceProfile.DEFAULT_CONTEXT_BYTES,
                DeviceProfile.fromJson(json.replaceAll(",\\s*\"contextBytes\"\\s*:\\s*\\d+", ""))
                        .contextBytes(),
                "profiles written before the field read with the default");
    }

    @Test
    void rebalancerComparesOptions() {
        IndicatorTable omega = TestGraphs.omega(g, 2);
        Allocation a = new GreedyAllocator(r, omega)
                .allocate(List.of(
                        new DeviceGroup("H100", DeviceCatalog.get("H100"), 1, 64),
                        new DeviceGroup("T4", DeviceCatalog.get("T4"), 1, 64)));
        RebalanceAdvice adv = new BatchRebalancer(r, omega).advise(a);
        assertTrue(adv.dbSamplesPerSec() > 0 && adv.qsyncSamplesPerSec() > 0);
        assertEquals(
                128,
                adv.dbBatches().values().stream().mapToInt(Integer::intValue).sum());
        assertTrue(
                adv.dbBatches().get("H100") > adv.dbBatches().get("T4"),
                adv.dbBatches().toString());
        assertTrue(adv.leaveOutSamplesPerSec().containsKey("T4"));
        assertTrue(!adv.reason().isEmpty() && adv.options().size() >= 3);
    }
}
