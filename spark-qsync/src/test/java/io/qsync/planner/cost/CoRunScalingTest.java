package io.qsync.planner.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.planner.replay.TestGraphs;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A co-run scales a profile's compute terms and its link, and refuses implausible factors. */
class CoRunScalingTest {
    private static final DeviceProfile H100 = DeviceCatalog.get("h100");

    @Test
    void computeTermsScaleByTheComputeFactorAndTheLinkByTheExchangeFactor() {
        Interconnect curved =
                new Interconnect("loopback", 4e9, 1e-4, 1.2, List.of(new Interconnect.WaitPoint(0.02, 1.2)));
        DeviceProfile p = new DeviceProfile(
                H100.name(),
                H100.estimate(),
                H100.source(),
                H100.memoryBytes(),
                H100.precisions(),
                H100.castPolicy(),
                H100.roofline(),
                H100.layers(),
                H100.casts(),
                new LinearCost(2e-9, 1e-4),
                Map.of("net|256", 0.002),
                curved,
                H100.contextBytes(),
                null);
        DeviceProfile s = CoRunScaling.apply(p, 1.04, 1.3, "co-run");
        for (int i = 0; i < p.layers().size(); i++) {
            assertEquals(
                    1.04 * p.layers().get(i).forwardSeconds(), s.layers().get(i).forwardSeconds(), 1e-15);
            assertEquals(
                    1.04 * p.layers().get(i).backwardSeconds(),
                    s.layers().get(i).backwardSeconds(),
                    1e-15);
        }
        assertEquals(1.04 * 0.002, s.stepOverheads().get("net|256"), 1e-15);
        assertEquals(1.04 * 1e-4, s.optimizer().beta(), 1e-15);
        assertEquals(
                1.3 * curved.ringAllReduceSeconds(9.4e6, 2), s.interconnect().ringAllReduceSeconds(9.4e6, 2), 1e-12);
        assertEquals(curved.waitCurve(), s.interconnect().waitCurve(), "the wait curve stays");
        assertTrue(s.source().endsWith("; co-run"), s.source());
        assertEquals(p.memoryBytes(), s.memoryBytes());
    }

    @Test
    void aWorkerAloneIsReplayedWithoutTheCoRunAndTheFactorsSurviveJson() {
        io.qsync.planner.graph.LayerGraph g = TestGraphs.chain(3);
        DeviceProfile scaled = CoRunScaling.apply(H100, 1.2, 1.5, "co-run");
        assertEquals(new CoRunScaling.Factors(1.2, 1.5), scaled.coRun());
        assertEquals(scaled, DeviceProfile.fromJson(scaled.toJson()), "the factors travel with the profile");
        DeviceProfile alone = scaled.alone();
        assertEquals(null, alone.coRun());
        assertSame(H100, H100.alone(), "an unscaled profile is its own alone profile");
        assertEquals(H100.interconnect().name(), alone.interconnect().name());
        java.util.Map<String, io.qsync.lowprec.Precision> fp32 = Map.of();
        io.qsync.planner.replay.Replayer r =
                new io.qsync.planner.replay.Replayer(g, new io.qsync.planner.replay.PredictorMemory());
        double one = r.clusterSeconds(List.of(new io.qsync.planner.replay.WorkerSpec("a", H100, fp32, 64, 1)));
        double oneScaled = r.clusterSeconds(List.of(new io.qsync.planner.replay.WorkerSpec("a", scaled, fp32, 64, 1)));
        assertEquals(one, oneScaled, 1e-12 * one, "one worker alone: no co-run");
        double two = r.clusterSeconds(List.of(new io.qsync.planner.replay.WorkerSpec("a", H100, fp32, 64, 2)));
        double twoScaled = r.clusterSeconds(List.of(new io.qsync.planner.replay.WorkerSpec("a", scaled, fp32, 64, 2)));
        assertTrue(twoScaled > 1.15 * two, "two workers side by side pay the co-run: " + twoScaled + " vs " + two);
        assertThrows(IllegalArgumentException.class, () -> CoRunScaling.apply(scaled, 1.1, 1.1, "twice"));
    }

    @Test
    void fp32Int8AndOtherLowPrecisionWorkScaleByTheirOwnFactors() {
        LayerSignature sig = TestGraphs.chain(1).nodes().get(0).signature();
        DeviceProfile p = new DeviceProfile(
                H100.name(),
                false,
                "measured",
                H100.memoryBytes(),
                H100.precisions(),
                H100.castPolicy(),
                H100.roofline(),
                List.of(
                        new LayerMeasurement(sig, 64, Precision.FP32, 1e-3, 2e-3),
                        new LayerMeasurement(sig, 64, Precision.FP16, 4e-4, 8e-4),
                        new LayerMeasurement(sig, 64, Precision.INT8, 3e-4, 7e-4)),
                Map.of(DeviceProfile.castKey(Precision.FP32, Precision.FP16), new LinearCost(1e-9, 1e-5)),
                new LinearCost(2e-9, 1e-4),
                Map.of("net|64", 0.002),
                H100.interconnect(),
                H100.contextBytes(),
                null);
        CoRunScaling.Factors f = new CoRunScaling.Factors(0.98, 1.1, 1.2, 1.05);
        DeviceProfile s = CoRunScaling.apply(p, f, "co-run");
        assertEquals(0.98 * 1e-3, s.layers().get(0).forwardSeconds(), 1e-15);
        assertEquals(1.1 * 8e-4, s.layers().get(1).backwardSeconds(), 1e-15);
        assertEquals(1.05 * 3e-4, s.layers().get(2).forwardSeconds(), 1e-15, "INT8 work takes the INT8 factor");
        assertEquals(
                p.roofline().peakFlopsPerSec().get(Precision.INT8) / 1.05,
                s.roofline().peakFlopsPerSec().get(Precision.INT8),
                1e-3);
        assertEquals(
                1.1 * 1e-5,
                s.casts()
                        .get(DeviceProfile.castKey(Precision.FP32, Precision.FP16))
                        .beta(),
                1e-15,
                "casts are memory-bound work");
        assertEquals(0.98 * 0.002, s.stepOverheads().get("net|64"), 1e-15, "per-step terms take the FP32 factor");
        assertEquals(0.98 * 1e-4, s.optimizer().beta(), 1e-15);
        assertEquals(f, s.coRun());
        assertEquals(
                p.layers(),
                s.alone().layers().stream()
                        .map(m -> new LayerMeasurement(
                                m.signature(),
                                m.batch(),
                                m.precision(),
                                round(m.forwardSeconds()),
                                round(m.backwardSeconds())))
                        .toList(),
                "alone() takes both factors out");
        assertEquals(new CoRunScaling.Factors(1.1, 1.3), new CoRunScaling.Factors(1.1, 0, 1.3));
        String older = CoRunScaling.apply(H100, 1.1, 1.3, "co-run")
                .toJson()
                .replaceAll("\"lowPrecision\"\\s*:\\s*[0-9.eE+-]+\\s*,", "");
        assertTrue(!older.contains("lowPrecision"), older);
        assertEquals(
                new CoRunScaling.Factors(1.1, 1.1, 1.3),
                DeviceProfile.fromJson(older).coRun(),
                "JSON written before the low-precision factor reads it as the FP32 one");
        String beforeInt8 = CoRunScaling.apply(H100, new CoRunScaling.Factors(1.1, 1.2, 1.3), "co-run")
                .toJson()
                .replaceAll(",\\s*\"int8\"\\s*:\\s*[0-9.eE+-]+", "");
        assertTrue(!beforeInt8.contains("int8"), beforeInt8);
        assertEquals(
                1.2,
                DeviceProfile.fromJson(beforeInt8).coRun().int8(),
                "JSON written before the INT8 factor reads it as the low-precision one");
        DeviceProfile jittery =
                CoRunScaling.apply(H100, new CoRunScaling.Factors(1.1, 1.2, 1.3, 1.05, 0.04, 0.5), "co-run");
        assertEquals(0.04, DeviceProfile.fromJson(jittery.toJson()).coRun().jitter(), "the jitter travels in JSON");
        assertEquals(0.5, DeviceProfile.fromJson(jittery.toJson()).coRun().stepCorrelation(), "and the correlation");
        String beforeJitter = jittery.toJson().replaceAll(",\\s*\"jitter\"\\s*:\\s*[0-9.eE+-]+", "");
        assertTrue(!beforeJitter.contains("jitter"), beforeJitter);
        assertEquals(0, DeviceProfile.fromJson(beforeJitter).coRun().jitter(), "JSON written before it: steady");
        org.junit.jupiter.api.Assertions.assertNull(
                jittery.alone().coRun(), "alone() drops the co-run, jitter included");
    }

    private static double round(double x) {
        return Math.round(x * 1e12) / 1e12;
    }

    @Test
    void anImplausibleFactorIsRefusedWithTheDeviceNamed() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> CoRunScaling.apply(H100, 3.0, 1.0, "x"));
        assertTrue(e.getMessage().contains(H100.name()), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CoRunScaling.apply(H100, 1.0, Double.NaN, "x"));
        assertThrows(
                IllegalArgumentException.class,
                () -> CoRunScaling.apply(H100, new CoRunScaling.Factors(1, 1, 1, 1, 0.8, 0), "x"),
                "a jitter of 80 % of the step is a failed measurement");
        assertThrows(
                IllegalArgumentException.class,
                () -> CoRunScaling.apply(H100, new CoRunScaling.Factors(1, 1, 1, 1, 0.1, 1.5), "x"));
    }
}
