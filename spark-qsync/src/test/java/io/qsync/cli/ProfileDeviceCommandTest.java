package io.qsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.cost.LayerMeasurement;
import io.qsync.planner.report.ClusterPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfileDeviceCommandTest {

    @Test
    void measuredProfileFeedsThePlanner(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("cpu.json");
        String out = CliRunner.run(
                "profile-device",
                "--model",
                "mlp",
                "--batch",
                "32",
                "--workers",
                "2",
                "--menu",
                "FP32,FP16,INT8",
                "--warmup",
                "1",
                "--repeats",
                "3",
                "--name",
                "cpu-test",
                "--out",
                json.toString());
        assertTrue(out.contains("wrote " + json), out);
        DeviceProfile p = DeviceProfile.fromJson(Files.readString(json));
        assertEquals("cpu-test", p.name());
        assertFalse(p.estimate(), "a measured profile is not an estimate");
        assertEquals(List.of(Precision.FP32, Precision.FP16, Precision.INT8), p.precisions());
        // mlp 784-256-256-10: the two hidden dense layers are switchable (the output layer never is, its cost is in the
        // remainder): each measured at every precision of the menu, positive forward and backward times, profiled batch
        Map<List<Long>, Set<Precision>> measured = new HashMap<>();
        for (LayerMeasurement m : p.layers()) {
            if (m.forwardSeconds() > 0) {
                assertEquals(32, m.batch());
                assertTrue(m.backwardSeconds() > 0, m.toString());
                measured.computeIfAbsent(m.signature().inputShape(), k -> EnumSet.noneOf(Precision.class))
                        .add(m.precision());
            }
        }
        assertEquals(
                Map.of(
                        List.of(784L),
                        EnumSet.of(Precision.FP32, Precision.FP16, Precision.INT8),
                        List.of(256L),
                        EnumSet.of(Precision.FP32, Precision.FP16, Precision.INT8)),
                measured);
        assertFalse(p.stepOverheads().isEmpty(), "the fitted remainder is stored as a step overhead");
        assertTrue(p.interconnect().bandwidthBytesPerSec() > 0);
        // the context term is measured (resident bytes of this JVM + ND4J before training), not the catalog default
        assertTrue(
                p.contextBytes() > 32L << 20
                        && p.contextBytes() < p.memoryBytes()
                        && p.contextBytes() != DeviceProfile.DEFAULT_CONTEXT_BYTES,
                "context " + p.contextBytes());
        assertTrue(p.source().contains("context measured"), p.source());

        Path planDir = dir.resolve("plan");
        CliRunner.run(
                "plan",
                "--model",
                "mlp",
                "--profile",
                json.toString(),
                "--devices",
                "cpu-test:2,T4:1",
                "--batch",
                "32",
                "--out",
                planDir.toString());
        ClusterPlan plan = ClusterPlan.fromJson(Files.readString(planDir.resolve("plan.json")));
        assertEquals(Set.of("cpu-test", "T4"), plan.devices().keySet());
        assertFalse(plan.devices().get("cpu-test").estimate());
        assertTrue(plan.clusterMillis() > 0);
    }

    @Test
    void aMenuWithoutFp32IsRejectedNamingTheOption(@TempDir Path dir) {
        CliRunner.Result r = CliRunner.runCapturingErrors(
                "profile-device",
                "--model",
                "mlp",
                "--menu",
                "INT8,FP16",
                "--out",
                dir.resolve("x.json").toString());
        assertNotEquals(0, r.exitCode());
        assertTrue(r.stderr().contains("--menu must contain FP32"), r.stderr());
        assertFalse(Files.exists(dir.resolve("x.json")));
    }
}
