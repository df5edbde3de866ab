package io.qsync.bench;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.NetworkBuffers;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.PrecisionSwitchable;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.memory.MemoryModel;
import io.qsync.planner.memory.MemoryPrediction;
import io.qsync.planner.memory.WorkingMemory;
import io.qsync.profile.NetworkGraphs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.memory.MemoryUseMode;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Memory model vs measurement: for 3 plans × 2 batch sizes on the Fashion-MNIST demo CNN (and, as an out-of-sample
 * check, on {@link DemoModels#sensitivityCnn}), compares {@link MemoryModel#predictTotalBytes} (EMULATION accounting,
 * no context term) with what one training iteration measurably holds: Σ {@code getCurrentSize()} of the DL4J
 * workspaces of the training thread after 4 {@code fit()} calls (buffers persist between iterations) + the exact
 * sizes of the parameter, gradient and updater-state arrays + the bytes the switchable layers hold outside workspaces
 * at the forward/backward boundary ({@link NetworkBuffers#heldBytes}: each layer's own pool of kept buffers plus
 * cached forward-pass arrays outside the pools, plus the scratch pool they share counted once; read in
 * {@code onForwardPass}) + the mini-batch arrays. Each configuration runs on a fresh thread, so it gets fresh
 * workspaces. Deterministic: no RSS, no timing.
 *
 * <p>Usage: {@code MemoryModelCheck [out=benchmarks/results/memory-model.md]}
 */
public final class MemoryModelCheck {
    private MemoryModelCheck() {}

    /** A network under test with its plans and batch sizes. */
    private record Case(
            String name,
            Supplier<MultiLayerConfiguration> conf,
            Map<String, Map<String, Precision>> plans,
            int[] batches) {}

    static Map<String, Map<String, Precision>> plans(String... switchable) {
        Map<String, Precision> all = new LinkedHashMap<>();
        for (String id : switchable) {
            all.put(id, Precision.INT8);
        }
        Map<String, Map<String, Precision>> p = new LinkedHashMap<>();
        p.put("all FP32", Map.of());
        p.put("conv_1 INT8", Map.of("conv_1", Precision.INT8));
        p.put("all switchable INT8", all);
        return p;
    }

    /** Runs the check; see the class comment. */
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "benchmarks/results/memory-model.md");
        List<Case> cases = List.of(
                new Case(
                        "fashionCnn",
                        () -> DemoModels.fashionCnn(42, 1e-3),
                        plans("conv_0", "conv_1", "dense_0"),
                        new int[] {256, 1024}),
                new Case(
                        "sensitivityCnn",
                        () -> DemoModels.sensitivityCnn(42, 1e-3),
                        plans("conv_0", "conv_1", "conv_2", "conv_3", "dense_0", "dense_1"),
                        new int[] {64, 256}));
        MemoryModel model = new MemoryModel(0, MemoryModel.Accounting.EMULATION);
        StringBuilder md = new StringBuilder("# Memory model vs measurement (CPU emulation, DL4J workspaces)\n\n");
        md.append("- Machine: ")
                .append(BenchEnv.machine())
                .append("; date ")
                .append(ZonedDateTime.now())
                .append('\n');
        md.append(
                "- Measured = Σ getCurrentSize() of the training thread's DL4J workspaces after 4 fit() calls + exact "
                        + "bytes of params, gradients (getFlattenedGradients) and updater state (getStateViewArray) + bytes the "
                        + "switchable layers hold outside workspaces at the forward/backward boundary (NetworkBuffers.heldBytes in "
                        + "onForwardPass of the 4th fit: each layer's own pool of kept buffers, plus any cached forward-pass arrays "
                        + "outside the pools, plus the scratch pool the layers share, once; the pools hold every role earlier "
                        + "iterations allocated) + the mini-batch (features + labels). Predicted = MemoryModel.predictTotalBytes, "
                        + "EMULATION accounting, context term 0 (nothing calibrated).\n\n");
        md.append("| net | plan | batch | predicted MiB | measured MiB | error | WS_ALL_LAYERS_ACT pred/meas MiB "
                + "| WS_LAYER_ACT_1+2 pred/meas MiB | WS_LAYER_WORKING_MEM pred/meas MiB (largest layer) "
                + "| held outside WS pred/meas MiB | of which shared scratch pool pred/meas MiB | params+grads+updater MiB "
                + "| DL4J memory report MiB (FP32 only) |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        double worst = 0;
        for (Case c : cases) {
            LayerGraph graph = NetworkGraphs.of(net(c.conf().get()));
            for (Map.Entry<String, Map<String, Precision>> e : c.plans().entrySet()) {
                for (int b : c.batches()) {
                    long[] m = new long[8];
                    Thread t = new Thread(() -> measure(c.conf().get(), e.getValue(), b, m));
                    t.start();
                    t.join();
                    MemoryPrediction p = model.predictBytes(graph, e.getValue(), b);
                    WorkingMemory w = model.workingMemory(graph, e.getValue(), b);
                    long pred = model.predictTotalBytes(graph, e.getValue(), b);
                    long meas = m[0] + m[1] + m[2] + m[3] + m[4] + m[5];
                    double err = 100.0 * (pred - meas) / meas;
                    worst = Math.max(worst, Math.abs(err));
                    md.append(String.format(
                            Locale.ROOT,
                            "| %s | %s | %d | %.2f | %.2f | %+.2f%% | %.2f / %.2f | %.2f / %.2f "
                                    + "| %.2f / %.2f (%s) | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f | %.2f |%n",
                            c.name(),
                            e.getKey(),
                            b,
                            mib(pred),
                            mib(meas),
                            err,
                            mib(w.activationsWorkspace()),
                            mib(m[0]),
                            mib(w.gradientWorkspaces()),
                            mib(m[1]),
                            mib(w.layerWorkspace()),
                            mib(m[2]),
                            w.largestLayer(),
                            mib(w.heldOutsideWorkspaces()),
                            mib(m[3]),
                            mib(w.sharedScratchBytes()),
                            mib(m[7]),
                            mib(p.paramBytes() + p.gradientBytes() + p.updaterBytes()),
                            mib(m[4]),
                            mib(m[6])));
                    System.err.printf(
                            Locale.ROOT,
                            "[memory] %s %s B=%d predicted %.2f measured %.2f MiB (%+.2f%%)%n",
                            c.name(),
                            e.getKey(),
                            b,
                            mib(pred),
                            mib(meas),
                            err);
                }
            }
        }
        md.append(String.format(
                Locale.ROOT,
                "%nLargest |error|: %.2f %%. Columns 'pred / meas': the model's term vs the "
                        + "measured part; params+grads+updater: predicted / measured; the mini-batch (predicted = measured) is in "
                        + "the totals only.%n",
                worst));
        md.append("\nCommand: `OMP_NUM_THREADS=1 benchmarks/run.sh io.qsync.bench.MemoryModelCheck ")
                .append(String.join(" ", args))
                .append("`\n");
        Files.writeString(out, md.toString());
        System.err.println(md);
    }

    private static double mib(long bytes) {
        return bytes / 1048576.0;
    }

    static MultiLayerNetwork net(MultiLayerConfiguration conf) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return SwitchableLayers.convert(net);
    }

    /** @return bytes of the scratch pool the switchable layers of {@code net} share (they all use the same one) */
    private static long sharedScratch(MultiLayerNetwork net) {
        for (Layer l : net.getLayers()) {
            if (l instanceof PrecisionSwitchable s && s.scratchPool() != null) {
                return s.scratchPool().heldBytes();
            }
        }
        return 0;
    }

    static DataSet data(int b) {
        INDArray x = Nd4j.rand(DataType.FLOAT, b, 784);
        INDArray y = Nd4j.zeros(DataType.FLOAT, b, 10);
        for (int i = 0; i < b; i++) {
            y.putScalar(i, i % 10, 1f);
        }
        return new DataSet(x, y);
    }

    /**
     * Fills {@code m} with: activations workspace, activation-gradient workspaces, layer working-memory workspace (and
     * any other), held outside workspaces, params+grads+updater, mini-batch, DL4J's FP32 memory report, shared scratch
     * pool (part of the held bytes).
     */
    private static void measure(MultiLayerConfiguration conf, Map<String, Precision> plan, int b, long[] m) {
        MultiLayerNetwork net = net(conf);
        new PrecisionPlan(plan).applyTo(net);
        net.addListeners(new BaseTrainingListener() {
            @Override
            public void onForwardPass(Model model, List<INDArray> activations) {
                m[3] = NetworkBuffers.heldBytes((MultiLayerNetwork) model);
                m[7] = sharedScratch((MultiLayerNetwork) model);
            }
        });
        DataSet d = data(b);
        for (int i = 0; i < 4; i++) {
            net.fit(d);
        }
        for (MemoryWorkspace w : Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread()) {
            String id = w.getId();
            int slot = id.equals("WS_ALL_LAYERS_ACT") ? 0 : id.startsWith("WS_LAYER_ACT_") ? 1 : 2;
            m[slot] += w.getCurrentSize();
        }
        m[4] = (net.params().length()
                        + net.getFlattenedGradients().length()
                        + net.getUpdater().getStateViewArray().length())
                * 4;
        m[5] = (d.getFeatures().length() + d.getLabels().length()) * 4;
        m[6] = conf.getMemoryReport(InputType.convolutionalFlat(28, 28, 1))
                .getTotalMemoryBytes(b, MemoryUseMode.TRAINING, CacheMode.NONE, DataType.FLOAT);
        Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
    }
}
