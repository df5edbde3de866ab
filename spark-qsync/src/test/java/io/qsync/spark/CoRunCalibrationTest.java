package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.planner.cost.CoRunScaling;
import io.qsync.planner.cost.DeviceCatalog;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.cost.LayerMeasurement;
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
 * The co-run's ratios scale the profiles so that replaying each of the co-run's configurations (uniform FP32, FP16 and
 * INT8) gives what the ranks measured, with FP32, INT8 and other low-precision work slowed by different factors; a
 * failed or missing co-run leaves the profiles as they are.
 */
class CoRunCalibrationTest {
    private static final LayerGraph GRAPH = TestGraphs.chain(3);
    private static final int ROWS = 64;
    private static final List<Precision> CONFIGS = List.of(Precision.FP32, Precision.FP16, Precision.INT8);
    private static final Map<String, DeviceProfile> PROFILES =
            Map.of("h100", measured(DeviceCatalog.get("h100")), "t4", measured(DeviceCatalog.get("t4")));

    /** A catalog profile with every layer measured at FP32, FP16 and INT8 (as the in-job Profiler measures them). */
    private static DeviceProfile measured(DeviceProfile p) {
        io.qsync.planner.cost.CostModel m = new io.qsync.planner.cost.CostModel(p);
        List<LayerMeasurement> ms = new ArrayList<>();
        for (LayerNode n : GRAPH.nodes()) {
            for (Precision q : CONFIGS) {
                ms.add(new LayerMeasurement(
                        n.signature(),
                        ROWS,
                        q,
                        m.layerSeconds(n.signature(), ROWS, q, false),
                        m.layerSeconds(n.signature(), ROWS, q, true)));
            }
        }
        return new DeviceProfile(
                p.name(),
                false,
                "measured",
                p.memoryBytes(),
                p.precisions(),
                p.castPolicy(),
                p.roofline(),
                List.copyOf(ms),
                p.casts(),
                p.optimizer(),
                Map.of(),
                p.interconnect(),
                p.contextBytes(),
                null);
    }

    private static WorkerDevice device(int rank, String type) {
        return new WorkerDevice(rank, "h", WorkerDevice.GPU, type, "0", 0, type, 40, 16L << 30, "8.0", 8, "", "");
    }

    private static List<WorkerSpec> coRunSpecs(Map<String, DeviceProfile> profiles, Precision p) {
        List<WorkerSpec> specs = new ArrayList<>();
        for (String type : List.of("h100", "t4")) {
            Map<String, Precision> plan = new LinkedHashMap<>();
            for (LayerNode n : GRAPH.switchableNodes()) {
                plan.put(n.id(), p);
            }
            specs.add(new WorkerSpec(type, profiles.get(type), plan, ROWS, 1));
        }
        return specs;
    }

    private static double computeMs(WorkerReplay w) {
        return 1e3 * w.busySeconds();
    }

    private static ReplayResult replay(Map<String, DeviceProfile> profiles, Precision p) {
        return new Replayer(GRAPH, new PredictorMemory()).replay(coRunSpecs(profiles, p));
    }

    /**
     * Ranks whose compute is {@code h100[c]} and {@code t4[c]} times the prediction in configuration {@code c}, and the
     * last one's exchange {@code exchange} times it.
     */
    private static List<ProbeStage.Probed> measured(double[] h100, double[] t4, double exchange) {
        List<CoRunProbe.Result> h = new ArrayList<>();
        List<CoRunProbe.Result> t = new ArrayList<>();
        for (int c = 0; c < CONFIGS.size(); c++) {
            ReplayResult r = replay(PROFILES, CONFIGS.get(c));
            double ch = h100[c] * computeMs(r.worker("h100"));
            double ct = t4[c] * computeMs(r.worker("t4"));
            String late = ch > ct ? "h100" : "t4";
            double x = exchange * 1e3 * r.worker(late).allReduceSeconds();
            Precision p = CONFIGS.get(c);
            h.add(new CoRunProbe.Result(
                    p, ROWS, ch + 1, ch - 0.5, late.equals("h100") ? x : 5, ch, 0.01 * (c + 1), steps(ch, 1), ""));
            t.add(new CoRunProbe.Result(
                    p, ROWS, ct + 1, ct - 0.5, late.equals("t4") ? x : 5, ct, 0.05, steps(ct, 2), ""));
        }
        return List.of(
                new ProbeStage.Probed(device(0, "h100"), null, "", h),
                new ProbeStage.Probed(device(1, "t4"), null, "", t));
    }

    private static final double[] U = {-2, -1, 0, 1, 2};

    /** Steps around {@code ms} moving with {@link #U} (every rank's: correlation 1). */
    private static double[] steps(double ms, double scale) {
        double[] out = new double[U.length];
        for (int i = 0; i < U.length; i++) {
            out[i] = ms + 1e-3 * scale * U[i];
        }
        return out;
    }

    @Test
    void theCorrectedProfilesReplayEveryConfigurationAsMeasured() {
        List<ProbeStage.Probed> probed =
                measured(new double[] {1.02, 1.08, 1.03}, new double[] {0.98, 1.25, 1.06}, 1.4);
        CoRunCalibration.Outcome o =
                CoRunCalibration.apply(probed, PROFILES, GRAPH, ROWS, Replayer.DEFAULT_BUCKET_BYTES);
        assertTrue(o.summary().endsWith("applied to the profiles"), o.summary());
        for (int c = 0; c < CONFIGS.size(); c++) {
            ReplayResult again = replay(o.profiles(), CONFIGS.get(c));
            for (ProbeStage.Probed p : probed) {
                assertEquals(
                        p.coRun().get(c).computeMs(),
                        computeMs(again.worker(p.device().type())),
                        1e-9,
                        p.device().type() + " at " + CONFIGS.get(c));
            }
            int config = c;
            ProbeStage.Probed late = probed.get(0).coRun().get(c).computeMs()
                            > probed.get(1).coRun().get(c).computeMs()
                    ? probed.get(0)
                    : probed.get(1);
            assertEquals(
                    late.coRun().get(config).exchangeMs(),
                    1e3 * again.worker(late.device().type()).allReduceSeconds(),
                    1e-6 * late.coRun().get(config).exchangeMs(),
                    "the last rank's exposed exchange at " + CONFIGS.get(c));
        }
        CoRunScaling.Factors t4 = o.profiles().get("t4").coRun();
        assertEquals(0.98, t4.compute(), 1e-9, "the FP32 configuration alone gives the FP32 factor");
        assertTrue(t4.lowPrecision() > 1.25, "FP16 work takes more than the whole step's ratio: " + t4);
        assertTrue(Math.abs(t4.int8() - t4.lowPrecision()) > 0.1, "INT8 work has its own factor: " + t4);
        assertTrue(o.profiles().get("t4").source().contains("co-run in the job: compute x0.980 (FP32) x"), o.summary());
        assertEquals(0.05, t4.jitter(), 1e-12, "each type's jitter is its ranks' median over the configurations");
        assertEquals(0.02, o.profiles().get("h100").coRun().jitter(), 1e-12);
        assertTrue(o.summary().contains("(t4: step jitter 5.0 %)"), o.summary());
        assertEquals(1, t4.stepCorrelation(), 1e-12, "the ranks' steps moved together in every configuration");
        assertTrue(o.summary().contains("varied together with correlation 1.00"), o.summary());
    }

    @Test
    void aFailedOrImplausibleCoRunLeavesTheProfilesAsMeasuredAlone() {
        double[] one = {1, 1, 1};
        List<ProbeStage.Probed> failed = List.of(
                measured(one, one, 1).get(0),
                new ProbeStage.Probed(
                        device(1, "t4"), null, "", List.of(CoRunProbe.Result.failed("rank 1: out of memory"))));
        CoRunCalibration.Outcome o =
                CoRunCalibration.apply(failed, PROFILES, GRAPH, ROWS, Replayer.DEFAULT_BUCKET_BYTES);
        assertSame(PROFILES, o.profiles());
        assertTrue(o.summary().contains("rank 1: out of memory"), o.summary());
        CoRunCalibration.Outcome wild = CoRunCalibration.apply(
                measured(one, new double[] {1, 5, 1}, 1), PROFILES, GRAPH, ROWS, Replayer.DEFAULT_BUCKET_BYTES);
        assertSame(PROFILES, wild.profiles());
        assertTrue(wild.summary().contains("not applied"), wild.summary());
        List<ProbeStage.Probed> none = List.of(
                new ProbeStage.Probed(device(0, "h100"), null, "", null),
                new ProbeStage.Probed(device(1, "t4"), null, "", List.of()));
        assertTrue(CoRunCalibration.apply(none, PROFILES, GRAPH, ROWS, Replayer.DEFAULT_BUCKET_BYTES)
                .summary()
                .startsWith("co-run: none"));
    }

    /** The median over configurations and rank pairs of the step-by-step correlation: +1, 0 and -1 give 0. */
    @Test
    void theStepCorrelationIsTheMedianOverPairsAndConfigurations() {
        double[] w = {2, -1, -2, -1, 2}; // orthogonal to U
        double[][] second = {steps(10, 1), steps(10, 0), steps(10, -1)};
        List<CoRunProbe.Result> a = new ArrayList<>();
        List<CoRunProbe.Result> b = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            double[] mine = c == 1 ? new double[] {10 + w[0], 10 + w[1], 10 + w[2], 10 + w[3], 10 + w[4]} : second[c];
            a.add(new CoRunProbe.Result(CONFIGS.get(c), ROWS, 11, 9, 1, 10, 0.1, steps(10, 1), ""));
            b.add(new CoRunProbe.Result(CONFIGS.get(c), ROWS, 11, 9, 1, 10, 0.1, mine, ""));
        }
        List<ProbeStage.Probed> probed = List.of(
                new ProbeStage.Probed(device(0, "h100"), null, "", a),
                new ProbeStage.Probed(device(1, "t4"), null, "", b));
        assertEquals(0, CoRunCalibration.stepCorrelation(probed), 1e-12);
        assertEquals(1, CoRunCalibration.stepCorrelation(List.of(probed.get(0), probed.get(0))), 1e-12);
    }

    @Test
    void theSpreadIsARobustStandardDeviation() {
        assertEquals(1.4826 * 1 / 10, io.qsync.runtime.Medians.relativeSpread(new double[] {9, 10, 11, 10, 40}), 1e-12);
        assertEquals(0, io.qsync.runtime.Medians.relativeSpread(new double[] {0, 0}));
    }

    /** A wild jitter (a rank descheduled for most of the co-run) is not used; the factors still are. */
    @Test
    void anImplausibleJitterIsLeftOutNotTheFactors() {
        List<ProbeStage.Probed> probed = new ArrayList<>();
        for (ProbeStage.Probed p : measured(new double[] {1.02, 1.08, 1.03}, new double[] {0.98, 1.25, 1.06}, 1.4)) {
            List<CoRunProbe.Result> wild = new ArrayList<>();
            for (CoRunProbe.Result r : p.coRun()) {
                wild.add(new CoRunProbe.Result(
                        r.precision(),
                        r.rows(),
                        r.stepMs(),
                        r.localMs(),
                        r.exchangeMs(),
                        r.computeMs(),
                        0.9,
                        r.computeSteps(),
                        ""));
            }
            probed.add(new ProbeStage.Probed(p.device(), null, "", wild));
        }
        CoRunCalibration.Outcome o =
                CoRunCalibration.apply(probed, PROFILES, GRAPH, ROWS, Replayer.DEFAULT_BUCKET_BYTES);
        assertTrue(o.summary().endsWith("applied to the profiles"), o.summary());
        assertTrue(o.summary().contains("step jitter 90.0 % (implausible: not used)"), o.summary());
        assertEquals(0, o.profiles().get("t4").coRun().jitter());
        assertEquals(0.98, o.profiles().get("t4").coRun().compute(), 1e-9);
    }

    @Test
    void aJobWithoutAGpuCoRunsOnceAtFp32AndAGpuJobThreeTimes() {
        assertEquals(List.of(Precision.FP32), CoRunProbe.precisionsFor(false, false));
        assertEquals(List.of(Precision.FP32, Precision.FP16, Precision.INT8), CoRunProbe.precisionsFor(true, true));
        assertEquals(List.of(Precision.FP32, Precision.FP32, Precision.FP32), CoRunProbe.precisionsFor(false, true));
    }
}
