package io.qsync.planner.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.planner.cost.DeviceCatalog;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.replay.ReplayResult;
import io.qsync.planner.replay.TestGraphs;
import io.qsync.planner.replay.WorkerSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One planning run as {@code plan=auto} makes it: the types fastest at FP32 pinned to FP32, the plan, and the workers
 * to train with when the advice is followed (always the global batch).
 */
class ClusterPlannerTest {
    private final LayerGraph g = TestGraphs.chain(5);

    @Test
    void theFastestTypeIsPinnedToFp32AndASingleTypeClusterTrainsAtFp32() {
        List<DeviceGroup> mixed = ClusterPlanner.pinFastest(
                g,
                List.of(
                        new DeviceGroup("V100", DeviceCatalog.get("V100"), 1, 64),
                        new DeviceGroup("T4", DeviceCatalog.get("T4"), 1, 64)),
                0.02);
        assertEquals(List.of(Precision.FP32), mixed.get(0).device().precisions(), "V100 is faster at FP32");
        assertTrue(mixed.get(1).device().precisions().size() > 1, "T4 keeps its menu");
        List<DeviceGroup> alone =
                ClusterPlanner.pinFastest(g, List.of(new DeviceGroup("T4", DeviceCatalog.get("T4"), 2, 64)), 0.02);
        ClusterPlanner p = ClusterPlanner.plan("chain", g, TestGraphs.omega(g, 3), alone, "");
        assertTrue(
                p.plan().layerPrecisions("T4").values().stream().allMatch(x -> x == Precision.FP32),
                p.plan().layerPrecisions("T4").toString());
    }

    @Test
    void theAdvisedWorkersKeepTheGlobalBatch() {
        List<DeviceGroup> groups = ClusterPlanner.pinFastest(
                g,
                List.of(
                        new DeviceGroup("H100", DeviceCatalog.get("H100"), 1, 64),
                        new DeviceGroup("T4", DeviceCatalog.get("T4"), 1, 64)),
                0.02);
        ClusterPlanner p = ClusterPlanner.plan("chain", g, TestGraphs.omega(g, 5), groups, "");
        List<WorkerSpec> advised = p.advisedWorkers();
        assertEquals(
                128,
                advised.stream().mapToInt(w -> w.count() * w.batch()).sum(),
                p.advice().decision());
        if (p.advice().decision().equals("QSYNC")) {
            assertEquals(p.plan(), p.planOf("chain", advised));
        } else {
            assertEquals(p.advice().decision(), p.planOf("chain", advised).rebalance());
            assertTrue(advised.stream().allMatch(w -> w.batch() > 0), advised.toString());
        }
        assertTrue(p.notes().get(0).startsWith("Indicator: "), p.notes().toString());
    }

    @Test
    void thePlanIsReplayedWithTheBucketTheJobTrainsWith() {
        List<DeviceGroup> groups = List.of(new DeviceGroup("T4", DeviceCatalog.get("T4"), 2, 64));
        ClusterPlanner whole = ClusterPlanner.plan("chain", g, TestGraphs.omega(g, 3), groups, "", 0);
        long third = g.totalParams() * 4 / 3; // about three buckets
        ClusterPlanner cut = ClusterPlanner.plan("chain", g, TestGraphs.omega(g, 3), groups, "", third);
        ReplayResult one = whole.replayer().replay(whole.allocation().workers());
        ReplayResult many = cut.replayer().replay(whole.allocation().workers());
        assertTrue(one.criticalPath().contains("in 1 bucket(s)"), one.criticalPath());
        assertTrue(!many.criticalPath().contains("in 1 bucket(s)"), many.criticalPath());
        assertTrue(
                many.clusterSeconds() < one.clusterSeconds(),
                "buckets hide part of the exchange: " + many.clusterSeconds() + " vs " + one.clusterSeconds());
    }
}
