package io.qsync.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.backend.cpu.CpuEngine;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.LayerTiming;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.cost.CostModel;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import io.qsync.runtime.HostBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

class ProfilerTest {
    private static final List<Precision> MENU = List.of(Precision.FP32, Precision.INT8);

    private static HostBatch batch(int n) {
        Random r = new Random(5);
        float[] x = new float[n * 784];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat();
        }
        float[] y = new float[n * 10];
        for (int k = 0; k < n; k++) {
            y[k * 10 + k % 10] = 1;
        }
        return new HostBatch(n, 784, x, 10, y);
    }

    private static void check(Model net, LayerGraph g) {
        CpuEngine engine = CpuEngine.of(net);
        long before = engine.checksum();
        DeviceProfile p = new Profiler(1, 3).profile("cpu", engine, g, batch(8), MENU, 16, 2);
        assertNotEquals(before, engine.checksum(), "the profiler measures real training steps of the engine");
        CostModel cm = new CostModel(p);
        for (LayerNode n : g.nodes()) {
            for (Precision q : n.switchable() ? MENU : List.of(Precision.FP32)) {
                boolean measured = p.layers().stream()
                        .anyMatch(m -> m.signature().equals(n.signature()) && m.precision() == q && m.batch() == 8);
                assertTrue(measured, n.id() + " " + q);
                double t = cm.layerSeconds(n.signature(), 8, q, false) + cm.layerSeconds(n.signature(), 8, q, true);
                assertTrue(n.switchable() ? t > 0 : t == 0, n.id() + " " + q + " " + t);
            }
        }
        assertTrue(p.stepOverheads().get(g.fingerprint() + "|8") >= 0);
        assertTrue(p.interconnect().bandwidthBytesPerSec() > 0);
        assertTrue(!LayerTiming.active(), "the profiler switches the timing hook off again");
    }

    @Test
    void profilesAMultiLayerNetworkInTheTrainingContext() {
        MultiLayerNetwork m = new MultiLayerNetwork(DemoModels.fashionCnn(1, 1e-3));
        m.init();
        MultiLayerNetwork net = SwitchableLayers.convert(m);
        check(net, NetworkGraphs.of(net).withName("fashion-cnn"));
    }

    @Test
    void profilesAComputationGraph() {
        ComputationGraph g = new ComputationGraph(DemoModels.resnetCnn(1, 1e-3));
        g.init();
        ComputationGraph net = SwitchableLayers.convert(g);
        check(net, NetworkGraphs.of(net, InputType.convolutionalFlat(28, 28, 1)).withName("resnet-cnn"));
    }

    /**
     * Profiled at two batch sizes, the cost model interpolates between the measurements (layers and step overhead)
     * instead of scaling one of them in proportion.
     */
    @Test
    void aProfileAtTwoBatchSizesInterpolatesBetweenThem() {
        MultiLayerNetwork m = new MultiLayerNetwork(DemoModels.mlp(1, 64, 1e-3));
        m.init();
        MultiLayerNetwork net = SwitchableLayers.convert(m);
        LayerGraph g = NetworkGraphs.of(net).withName("mlp");
        DeviceProfile p =
                new Profiler(1, 3).profile("cpu", CpuEngine.of(net), g, List.of(batch(8), batch(32)), MENU, 64, 2);
        assertTrue(p.source().contains("also at batch 32"), p.source());
        assertTrue(
                p.stepOverheads().containsKey(g.fingerprint() + "|8"),
                p.stepOverheads().toString());
        assertTrue(
                p.stepOverheads().containsKey(g.fingerprint() + "|32"),
                p.stepOverheads().toString());
        CostModel cm = new CostModel(p);
        for (LayerNode n : g.nodes()) {
            if (!n.switchable()) {
                continue;
            }
            for (Precision q : MENU) {
                for (boolean bwd : new boolean[] {false, true}) {
                    double at8 = cm.layerSeconds(n.signature(), 8, q, bwd);
                    double at32 = cm.layerSeconds(n.signature(), 32, q, bwd);
                    double at20 = cm.layerSeconds(n.signature(), 20, q, bwd);
                    assertTrue(
                            p.layers().stream()
                                    .anyMatch(x -> x.signature().equals(n.signature())
                                            && x.precision() == q
                                            && x.batch() == 32),
                            n.id() + " " + q + " measured at 32 rows");
                    double line = at8 + (at32 - at8) * (20 - 8) / 24.0;
                    assertTrue(
                            Math.abs(at20 - line) <= 1e-9 + 1e-9 * Math.abs(line),
                            n.id() + " " + q + (bwd ? " bwd" : " fwd") + ": " + at8 + ", " + at20 + ", " + at32);
                }
            }
        }
        double o8 = cm.stepOverheadSeconds(g.fingerprint(), 8);
        double o32 = cm.stepOverheadSeconds(g.fingerprint(), 32);
        double o20 = cm.stepOverheadSeconds(g.fingerprint(), 20);
        double line = Math.max(0, o8 + (o32 - o8) * 12 / 24.0);
        assertTrue(Math.abs(o20 - line) <= 1e-9, o8 + ", " + o20 + ", " + o32);
    }

    @Test
    void theLoopbackMeasurementClosesItsSocketsWhenItFails() throws IOException {
        long before = openFileDescriptors();
        for (int i = 0; i < 5; i++) {
            // no measured repeats: the fit fails after both ring communicators are connected
            assertThrows(RuntimeException.class, () -> Profiler.measureLoopback(1024, 0, 0));
        }
        long after = openFileDescriptors();
        assertTrue(
                after - before < 5,
                "sockets leaked by failed measurements: " + before + " -> " + after + " open file descriptors");
    }

    private static long openFileDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    void enginesWhoseClockChangesStepsAlsoCalibrateOnUniformPlans() {
        List<String> ids = List.of("a", "b", "c", "d");
        List<Precision> menu = List.of(Precision.FP32, Precision.FP16, Precision.INT8);
        List<Map<String, Precision>> rotations = Profiler.calibrationPlans(ids, menu, false);
        assertEquals(3, rotations.size());
        assertEquals(Precision.FP16, rotations.get(1).get("a"));
        assertEquals(Precision.FP32, rotations.get(1).get("c"));
        List<Map<String, Precision>> all = Profiler.calibrationPlans(ids, menu, true);
        assertEquals(rotations, all.subList(0, 3));
        for (int k = 0; k < menu.size(); k++) {
            assertEquals(
                    java.util.Set.of(menu.get(k)),
                    java.util.Set.copyOf(all.get(3 + k).values()));
        }
    }

    /** A card's profile measures only what the card runs: a T4 (compute capability 7.5) has no FP8, TF32 or BF16. */
    @Test
    void aProfilesMenuLeavesOutThePrecisionsTheCardCannotRun() {
        var t4 = new io.qsync.lowprec.cuda.DeviceFacts(
                0, "Tesla T4", 7, 5, 16L << 30, 40, 4L << 20, 1590, 5001, "0000:00:04.0", 13000, 13000);
        List<Precision> menu = List.of(
                Precision.FP32, Precision.TF32, Precision.BF16, Precision.FP16, Precision.FP8_E4M3, Precision.INT8);
        assertEquals(
                List.of(Precision.FP32, Precision.FP16, Precision.INT8), Profiler.runnable(t4::whyCannotRun, menu));
        assertEquals(menu, Profiler.runnable(p -> null, menu), "the host runs every precision");
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> Profiler.runnable(p -> p == Precision.FP32 ? "no" : null, List.of(Precision.FP32)));
        assertTrue(e.getMessage().contains("no FP32"), e.getMessage());
    }
}
