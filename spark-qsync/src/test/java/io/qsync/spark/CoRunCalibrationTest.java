package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.planner.cost.DeviceCatalog;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import io.qsync.planner.replay.PredictorMemory;
import io.qsync.planner.replay.ReplayResult;
import io.qsync.planner.replay.Replayer;
import io.qsync.planner.replay.TestGraphs;
import io.qsync.planner.replay.WorkerReplay;
import io.qsync.planner.replay.WorkerSpec;
import io.qsync.spark.devices.WorkerDevice;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The co-run's ratios scale the profiles so that replaying the co-run's configuration gives what the ranks measured;
 * a failed or missing co-run leaves the profiles as they are.
 */
class CoRunCalibrationTest {
    private static final LayerGraph GRAPH = TestGraphs.chain(3);
    private static final int ROWS = 64;
    private static final Map<String, DeviceProfile> PROFILES =
            Map.of("h100", DeviceCatalog.get("h100"), "t4", DeviceCatalog.get("t4"));

    private static WorkerDevice device(int rank, String type) {
        return new WorkerDevice(rank, "h", WorkerDevice.GPU, type, "0", 0, type, 40, 16L << 30, "8.0", 8, "", "");
    }

    private static List<WorkerSpec> coRunSpecs(Map<String, DeviceProfile> profiles) {
        List<WorkerSpec> specs = new ArrayList<>();
        for (String type : List.of("h100", "t4")) {
            Map<String, Precision> plan = new LinkedHashMap<>();
            for (LayerNode n : GRAPH.switchableNodes()) {
                plan.put(n.id(), Precision.FP16);
            }
            specs.add(new WorkerSpec(type, profiles.get(type), plan, ROWS, 1));
        }
        return specs;
    }

    private static double computeMs(WorkerReplay w) {
        return 1e3
                * (w.forwardSeconds()
                        + w.backwardSeconds()
                        + w.castSeconds()
                        + w.overheadSeconds()
                        + w.optimizerSeconds());
    }

    private static ReplayResult replay(Map<String, DeviceProfile> profiles) {
        return new Replayer(GRAPH, new PredictorMemory()).replay(coRunSpecs(profiles));
    }

    /** Ranks that measured {@code compute[i]} times the prediction, and the last one {@code exchange} times it. */
    private static List<ProbeStage.Probed> measured(double h100, double t4, double exchange) {
        ReplayResult r = replay(PROFILES);
        double ch = h100 * computeMs(r.worker("h100"));
        double ct = t4 * computeMs(r.worker("t4"));
        String late = ch > ct ? "h100" : "t4";
        double x = exchange * 1e3 * r.worker(late).allReduceSeconds();
        return List.of(
                new ProbeStage.Probed(
                        device(0, "h100"),
                        null,
                        "",
                        new CoRunProbe.Result(
                                Precision.FP16, ROWS, ch + 1, ch - 0.5, late.equals("h100") ? x : 5, ch, "")),
                new ProbeStage.Probed(
                        device(1, "t4"),
                        null,
                        "",
                        new CoRunProbe.Result(
                                Precision.FP16, ROWS, ct + 1, ct - 0.5, late.equals("t4") ? x : 5, ct, "")));
    }

    @Test
    void theCorrectedProfilesReplayTheCoRunAsMeasured() {
        List<ProbeStage.Probed> probed = measured(1.08, 1.25, 1.4);
        CoRunCalibration.Outcome o = CoRunCalibration.apply(probed, PROFILES, GRAPH, ROWS);
        assertTrue(o.summary().endsWith("applied to the profiles"), o.summary());
        ReplayResult again = replay(o.profiles());
        assertEquals(probed.get(0).coRun().computeMs(), computeMs(again.worker("h100")), 1e-9);
        assertEquals(probed.get(1).coRun().computeMs(), computeMs(again.worker("t4")), 1e-9);
        ProbeStage.Probed late =
                probed.get(0).coRun().computeMs() > probed.get(1).coRun().computeMs() ? probed.get(0) : probed.get(1);
        assertEquals(
                late.coRun().exchangeMs(),
                1e3 * again.worker(late.device().type()).allReduceSeconds(),
                1e-6 * late.coRun().exchangeMs(),
                "the last rank's exposed exchange");
        assertTrue(o.profiles().get("t4").source().contains("co-run in the job: compute x1.250"), o.summary());
    }

    @Test
    void aFailedOrImplausibleCoRunLeavesTheProfilesAsMeasuredAlone() {
        List<ProbeStage.Probed> failed = List.of(
                measured(1, 1, 1).get(0),
                new ProbeStage.Probed(device(1, "t4"), null, "", CoRunProbe.Result.failed("rank 1: out of memory")));
        CoRunCalibration.Outcome o = CoRunCalibration.apply(failed, PROFILES, GRAPH, ROWS);
        assertSame(PROFILES, o.profiles());
        assertTrue(o.summary().contains("rank 1: out of memory"), o.summary());
        CoRunCalibration.Outcome wild = CoRunCalibration.apply(measured(1, 5, 1), PROFILES, GRAPH, ROWS);
        assertSame(PROFILES, wild.profiles());
        assertTrue(wild.summary().contains("not applied"), wild.summary());
        List<ProbeStage.Probed> none = List.of(
                new ProbeStage.Probed(device(0, "h100"), null, "", null),
                new ProbeStage.Probed(device(1, "t4"), null, "", null));
        assertTrue(CoRunCalibration.apply(none, PROFILES, GRAPH, ROWS).summary().startsWith("co-run: none"));
    }
}
