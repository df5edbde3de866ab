package io.qsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.LayerIds;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.PrecisionSwitchable;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.report.ClusterPlan;
import io.qsync.planner.report.DevicePlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlanCommandTest {

    private static String run(String... args) {
        return CliRunner.run(args);
    }

    private static void assertReport(Path dir) throws Exception {
        for (String f : new String[] {"plan.json", "plan.txt", "report.html", "precision.png", "timeline.png"}) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        byte[] png = Files.readAllBytes(dir.resolve("precision.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        String html = Files.readString(dir.resolve("report.html"));
        String embedded =
                "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(png);
        assertTrue(
                html.contains("<style>") && html.contains("white-space:pre-wrap") && html.contains(embedded),
                "self-contained report: inline style, wrapped text, the chart embedded");
        assertTrue(
                html.contains("<dt>DB</dt>") && !html.contains("src=\"precision.png\"") && !html.contains("docs/"),
                "terms explained, no file references");
    }

    @Test
    void plansResnetCnnForV100AndT4AndThePlanRunsOnTheNetwork(@TempDir Path dir) throws Exception {
        String out = run(
                "plan",
                "--model",
                "resnet-cnn",
                "--devices",
                "V100:1,T4:1",
                "--batch",
                "32",
                "--warmup-steps",
                "2",
                "--out",
                dir.toString());
        assertTrue(out.contains("V100") && out.contains("T4"), out);
        assertReport(dir);
        String json = Files.readString(dir.resolve("plan.json"));
        ClusterPlan plan = ClusterPlan.fromJson(json);
        assertEquals(json, plan.toJson());
        assertEquals(2, plan.devices().size());
        assertTrue(plan.clusterMillis() > 0);
        ComputationGraph g = new ComputationGraph(DemoModels.resnetCnn(1, 1e-3));
        g.init();
        ComputationGraph net = SwitchableLayers.convert(g);
        Map<String, Layer> ids = LayerIds.of(net);
        for (String type : plan.devices().keySet()) {
            DevicePlan dp = plan.devices().get(type);
            assertEquals(32, dp.batchPerWorker());
            PrecisionPlan pp = new PrecisionPlan(plan.layerPrecisions(type));
            assertEquals(pp, PrecisionPlan.fromJson(pp.toJson()));
            pp.applyTo(net);
            for (Map.Entry<String, Precision> e : dp.layers().entrySet()) {
                assertEquals(e.getValue(), ((PrecisionSwitchable) ids.get(e.getKey())).getPrecision(), type + " " + e);
            }
        }
    }

    @Test
    void theReadmeTradeOffPlanMixesPrecisionsAndSaysWhy(@TempDir Path dir) throws Exception {
        run(
                "plan",
                "--model",
                "resnet-cnn",
                "--devices",
                "V100:1:256,T4:1:128",
                "--pin",
                "V100=FP32",
                "--warmup-steps",
                "3",
                "--out",
                dir.toString());
        ClusterPlan plan = ClusterPlan.fromJson(Files.readString(dir.resolve("plan.json")));
        assertEquals(256, plan.devices().get("V100").batchPerWorker());
        assertEquals(128, plan.devices().get("T4").batchPerWorker());
        java.util.Set<Precision> t4 =
                java.util.EnumSet.copyOf(plan.devices().get("T4").layers().values());
        assertTrue(t4.size() > 1, "the T4 runs layers at more than one precision: " + t4);
        String txt = Files.readString(dir.resolve("plan.txt"));
        assertTrue(txt.contains("Indicator: gvar after 3 FP32 warm-up steps of 32"), txt);
        assertTrue(txt.contains("Why: T4 ") && txt.contains(" raised ") && txt.contains("<= budget"), txt);
    }

    @Test
    void aLayerRaisedWithItsRunIsNotRaisedAgain(@TempDir Path dir) throws Exception {
        // batch 256 raises a run of layers to the top of the T4's menu while their older candidates are still queued
        // (was IndexOutOfBoundsException: Index 2 Size 2)
        run("plan", "--model", "fashion-cnn", "--devices", "V100:1,T4:1", "--batch", "256", "--out", dir.toString());
        ClusterPlan plan = ClusterPlan.fromJson(Files.readString(dir.resolve("plan.json")));
        assertEquals(2, plan.devices().size());
    }

    @Test
    void plansWithTheMeasuredGpuProfile(@TempDir Path dir) throws Exception {
        run(
                "plan",
                "--model",
                "fashion-cnn",
                "--profile",
                "../benchmarks/profiles/h200.json",
                "--devices",
                "H200:1,T4:1",
                "--batch",
                "64",
                "--out",
                dir.toString());
        assertReport(dir);
        ClusterPlan plan = ClusterPlan.fromJson(Files.readString(dir.resolve("plan.json")));
        assertEquals("H200", plan.devices().get("H200").device());
        assertTrue(!plan.devices().get("H200").estimate());
    }

    @Test
    void aNegativeBucketIsRefusedByItsOptionName() {
        CliRunner.Result r = CliRunner.runCapturingErrors(
                "plan", "--model", "fashion-cnn", "--devices", "V100:1,T4:1", "--bucket-bytes", "-1");
        assertEquals(2, r.exitCode(), r.stderr());
        assertTrue(r.stderr().contains("--bucket-bytes must be >= 0"), r.stderr());
    }
}
