package io.qsync.bench.gpu;

import io.qsync.backend.cuda.ProgramEngine;
import io.qsync.data.FashionMnist;
import io.qsync.data.LabeledImages;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.CudaTensorOps;
import io.qsync.lowprec.layers.LayerIds;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.runtime.Backends;
import io.qsync.runtime.EngineRequest;
import io.qsync.runtime.HostBatch;
import io.qsync.runtime.LocalShard;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.TrainingEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Whole training steps of the CUDA engine (batch upload, forward, backward, gradient download, update: what a worker
 * does per step minus the ring), against the CPU backend on the same machine, and one Fashion-MNIST epoch of the demo
 * CNN on each. PyTorch's eager step for the same networks comes from {@code benchmarks/gpu/torch_peer.py} in the same
 * device call.
 *
 * <p>Usage: {@code CudaEngineBench MODE OUT.json [fashionMnistDir | batch]}, MODE one of {@code speed}, {@code half},
 * {@code nhwc} and {@code find} (A/B rows of one switch, {@link #ab}), {@code algos} (every cuDNN algorithm of the
 * VGG-style CNN's convolutions timed by cuDNN, {@code CudnnAlgorithmSurvey}), {@code timeline} (the VGG step op by op,
 * {@link StepTimelineBench}), {@code int8} (the all-INT8 VGG plan with and without its cuDNN-backed convolutions,
 * beside the FP16 plan), {@code int8-kernels} ({@code Int8ConvolutionKernelsBench}), {@code epoch}.
 */
public final class CudaEngineBench {
    private CudaEngineBench() {}

    /**
     * One timed row; {@code conv}: how its convolutions ran ({@link ProgramEngine#convolutionPath}), {@code layers}
     * layer by layer.
     */
    record Row(
            String network,
            int batch,
            String precision,
            String backend,
            double msPerStep,
            double samplesPerSec,
            String conv,
            Map<String, String> layers) {
        /** The same row under another precision label. */
        Row relabel(String label) {
            return new Row(network, batch, label, backend, msPerStep, samplesPerSec, conv, layers);
        }
    }

    static HostBatch randomBatch(int rows, int features, long seed) {
        Random r = new Random(seed);
        float[] x = new float[rows * features];
        float[] y = new float[rows * 10];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < rows; i++) {
            y[i * 10 + r.nextInt(10)] = 1f;
        }
        return new HostBatch(rows, features, x, 10, y);
    }

    static Model init(MultiLayerConfiguration conf) {
        MultiLayerNetwork n = new MultiLayerNetwork(conf);
        n.init();
        return n;
    }

    /**
     * Ms per whole step after {@code warmup}, rotating over four batches: the median over three runs of {@code steps}
     * steps back to back, as a worker trains (each step's batch upload waits for the previous update on the stream),
     * each run ended by one checksum so that its last update has finished. Until 2026-12-07 every step was followed by
     * a checksum (a 9 MB download and a CRC on the host for the VGG-style CNN), which the rows then counted as step time.
     * Each step updates as a one-worker job's {@code SyncStep} does ({@link TrainingEngine#applyLocalUpdate}: no ring,
     * so the device keeps its own gradient); with {@code -Dqsync.bench.ringStep=true} as a worker of a ring does
     * ({@link TrainingEngine#applyUpdate}: the host gradient goes back up).
     */
    static double timeSteps(TrainingEngine e, int batch, int warmup, int steps) {
        boolean ring = Boolean.getBoolean("qsync.bench.ringStep");
        HostBatch[] bs = new HostBatch[4];
        for (int i = 0; i < bs.length; i++) {
            bs[i] = randomBatch(batch, 784, 17 + i);
        }
        for (int i = 0; i < warmup; i++) {
            e.computeGradient(bs[i % 4]);
            update(e, batch, ring);
        }
        e.checksum();
        double[] ms = new double[3];
        for (int run = 0; run < ms.length; run++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                e.computeGradient(bs[i % 4]);
                update(e, batch, ring);
            }
            e.checksum(); // waits for the last update (device-to-host of the params and their checksum)
            ms[run] = (System.nanoTime() - t0) / 1e6 / steps;
        }
        Arrays.sort(ms);
        return ms[1];
    }

    private static void update(TrainingEngine e, int batch, boolean ring) {
        if (ring) {
            e.applyUpdate(batch, 0);
        } else {
            e.applyLocalUpdate(batch, 0);
        }
    }

    private static Row cuda(String name, MultiLayerConfiguration conf, int batch, boolean tf32, int steps) {
        return cuda(name, conf, batch, tf32, steps, true, true);
    }

    /** @param cudnn whether convolutions may use cuDNN (false: im2col + GEMM, the baseline of the same run) */
    private static Row cuda(
            String name,
            MultiLayerConfiguration conf,
            int batch,
            boolean tf32,
            int steps,
            boolean replay,
            boolean cudnn) {
        try (ProgramEngine e = engine(init(conf), CudaTensorOps.open(0, tf32, cudnn), batch, replay)) {
            double ms = timeSteps(e, batch, 10, steps);
            return new Row(
                    name,
                    batch,
                    tf32 ? "TF32" : "FP32",
                    "cuda, " + e.replayState(),
                    ms,
                    batch * 1000.0 / ms,
                    e.convolutionPath(),
                    e.convolutionPaths());
        }
    }

    /** Every dense and convolution layer at {@code p} (output layers stay FP32, as QSync keeps them). */
    /** The network of {@code conf} with every dense and convolution layer at {@code p} (output layers stay FP32). */
    static MultiLayerNetwork planned(MultiLayerConfiguration conf, Precision p) {
        MultiLayerNetwork net = SwitchableLayers.convert((MultiLayerNetwork) init(conf));
        Map<String, Precision> layers = new LinkedHashMap<>();
        for (String id : LayerIds.of(net).keySet()) {
            if (id.startsWith("conv_") || id.startsWith("dense_")) {
                layers.put(id, p);
            }
        }
        new PrecisionPlan(layers).applyTo(net);
        return net;
    }

    /** {@link ProgramEngine#open}, which owns {@code ops} once it returns; if it throws, the ops are closed here. */
    private static ProgramEngine engine(Model model, CudaTensorOps ops, int maxRows, boolean replay) {
        try {
            return ProgramEngine.open(model, ops, "cuda", maxRows, replay);
        } catch (RuntimeException e) {
            ops.close();
            throw e;
        }
    }

    private static Row cudaPlan(String name, MultiLayerConfiguration conf, int batch, Precision p, int steps) {
        MultiLayerNetwork net = planned(conf, p);
        try (ProgramEngine e = engine(net, CudaTensorOps.open(0, false), batch, true)) {
            double ms = timeSteps(e, batch, 10, steps);
            return new Row(
                    name,
                    batch,
                    p.name(),
                    "cuda, plan (conv and dense layers), " + e.replayState(),
                    ms,
                    batch * 1000.0 / ms,
                    e.convolutionPath(),
                    e.convolutionPaths());
        }
    }

    private static Row cpu(String name, MultiLayerConfiguration conf, int batch, int steps) {
        int threads = Runtime.getRuntime().availableProcessors();
        EngineRequest req = new EngineRequest(ModelSpec.of(init(conf)), null, 0, threads, batch);
        try (TrainingEngine e = Backends.select("cpu", req).open(req)) {
            double ms = timeSteps(e, batch, 3, steps);
            return new Row(name, batch, "FP32", "cpu x" + threads, ms, batch * 1000.0 / ms, "DL4J", Map.of());
        }
    }

    /** Adds the row, or prints why it failed (one broken configuration must not hide the others). */
    private static void tryRow(List<Row> rows, java.util.function.Supplier<Row> row) {
        try {
            rows.add(row.get());
        } catch (RuntimeException e) {
            System.out.println("STEP failed: " + e);
            e.printStackTrace(System.out);
        }
    }

    /**
     * The all-INT8 VGG plan with its convolutions on {@code CudnnInt8Convolution} (the default) and on im2col + the
     * INT8 GEMM ({@code -Dqsync.cuda.int8Cudnn=false}, the baseline), beside the FP16 plan, twice each, interleaved.
     */
    private static List<Map<String, Object>> int8() {
        List<Row> rows = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            tryRow(rows, () -> cudaPlan("VGG-style CNN", DemoModels.vggCnn(7, 1e-3), 1024, Precision.FP16, 30));
            tryRow(rows, () -> cudaPlan("VGG-style CNN", DemoModels.vggCnn(7, 1e-3), 1024, Precision.INT8, 30));
            System.setProperty("qsync.cuda.int8Cudnn", "false");
            try {
                tryRow(rows, () -> cudaPlan("VGG-style CNN", DemoModels.vggCnn(7, 1e-3), 1024, Precision.INT8, 30));
            } finally {
                System.clearProperty("qsync.cuda.int8Cudnn");
            }
        }
        return report(rows);
    }

    /**
     * VGG plans at {@code precisions} without and with the switch {@code -D<property>=<value>} (read per engine), twice
     * each, interleaved in one JVM; the precision column names the switched rows by {@code label}. {@code half}:
     * {@code qsync.cuda.halfTensors} on the FP16/BF16 plans (half-size tensors, QSync's real kernels: outputs rounded
     * to the format), {@code nhwc}: the same in NHWC; {@code find}: {@code qsync.cuda.cudnn.find} (cuDNN's measured
     * ranking of its algorithms).
     */
    private static List<Map<String, Object>> ab(String property, String value, String label, Precision... precisions) {
        List<Row> rows = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            for (Precision p : precisions) {
                tryRow(rows, () -> cudaPlan("VGG-style CNN", DemoModels.vggCnn(7, 1e-3), 1024, p, 30));
                System.setProperty(property, value);
                try {
                    tryRow(rows, () -> cudaPlan("VGG-style CNN", DemoModels.vggCnn(7, 1e-3), 1024, p, 30)
                            .relabel(p + " " + label));
                } finally {
                    System.clearProperty(property);
                }
            }
        }
        return report(rows);
    }

    private static List<Map<String, Object>> speed() {
        List<Row> rows = new ArrayList<>();
        tryRow(rows, () -> cuda("demo CNN", DemoModels.fashionCnn(7, 1e-3), 256, false, 200, false, true));
        tryRow(rows, () -> cuda("demo CNN", DemoModels.fashionCnn(7, 1e-3), 256, false, 200));
        for (boolean tf32 : new boolean[] {false, true}) { // cuDNN (the default), then im2col + GEMM as the baseline
            tryRow(rows, () -> cuda("VGG-style CNN", DemoModels.vggCnn(7, 1e-3), 1024, tf32, 30));
            tryRow(rows, () -> cuda("VGG-style CNN", DemoModels.vggCnn(7, 1e-3), 1024, tf32, 30, true, false));
        }
        for (Precision p :
                new Precision[] {Precision.TF32, Precision.FP16, Precision.BF16, Precision.INT8, Precision.FP8_E4M3}) {
            tryRow(rows, () -> cudaPlan("VGG-style CNN", DemoModels.vggCnn(7, 1e-3), 1024, p, 30));
        }
        System.setProperty("qsync.bench.ringStep", "true"); // a ring worker's step: the host gradient goes back up
        try {
            tryRow(rows, () -> cudaPlan("VGG-style CNN", DemoModels.vggCnn(7, 1e-3), 1024, Precision.TF32, 30)
                    .relabel("TF32 ring"));
        } finally {
            System.clearProperty("qsync.bench.ringStep");
        }
        tryRow(rows, () -> cpu("demo CNN", DemoModels.fashionCnn(7, 1e-3), 256, 20));
        return report(rows);
    }

    /** Prints one STEP line per row and returns the rows for the JSON file. */
    private static List<Map<String, Object>> report(List<Row> rows) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Row r : rows) {
            System.out.printf(
                    Locale.ROOT,
                    "STEP %-14s batch %5d %-8s %9.3f ms %10.0f samples/s  %s; conv %s%n",
                    r.network(),
                    r.batch(),
                    r.precision(),
                    r.msPerStep(),
                    r.samplesPerSec(),
                    r.backend(),
                    r.conv());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("network", r.network());
            m.put("batch", r.batch());
            m.put("precision", r.precision());
            m.put("backend", r.backend());
            m.put("ms_per_step", r.msPerStep());
            m.put("samples_per_s", r.samplesPerSec());
            m.put("convolution_path", r.conv());
            m.put("convolution_layers", r.layers());
            out.add(m);
        }
        return out;
    }

    /** One epoch of the demo CNN (the CLI's batch 64, lr 2e-3, same seed and order) and its test accuracy. */
    private static Map<String, Object> epoch(String backend, LocalShard train, LocalShard test) {
        int batch = 64;
        MultiLayerConfiguration conf = DemoModels.fashionCnn(42, 2e-3);
        int threads = Runtime.getRuntime().availableProcessors();
        EngineRequest req = new EngineRequest(ModelSpec.of(init(conf)), null, 0, threads, batch);
        int[] order = new int[train.count()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Random r = new Random(42);
        for (int i = order.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        try (TrainingEngine e = backend.equals("cuda")
                ? engine(init(conf), CudaTensorOps.open(0, false), 1000, true)
                : Backends.select("cpu", req).open(req)) {
            long t0 = System.nanoTime();
            double loss = 0;
            for (int from = 0; from + batch <= order.length; from += batch) {
                loss = e.computeGradient(train.hostBatch(order, from, from + batch, 10));
                e.applyUpdate(batch, 0);
            }
            e.checksum();
            double secs = (System.nanoTime() - t0) / 1e9;
            int[] all = new int[test.count()];
            for (int i = 0; i < all.length; i++) {
                all[i] = i;
            }
            int correct = 0;
            for (int from = 0; from < all.length; from += 1000) {
                int to = Math.min(all.length, from + 1000);
                float[] p = e.output(test.hostBatch(all, from, to, 10));
                for (int i = 0; i < to - from; i++) {
                    int best = 0;
                    for (int c = 1; c < 10; c++) {
                        if (p[i * 10 + c] > p[i * 10 + best]) {
                            best = c;
                        }
                    }
                    correct += best == test.label(from + i) ? 1 : 0;
                }
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("backend", backend.equals("cuda") ? e.device() : "cpu x" + threads);
            m.put("images", (order.length / batch) * batch);
            m.put("seconds", secs);
            m.put("samples_per_s", (order.length / batch) * batch / secs);
            m.put("last_loss", loss);
            m.put("test_accuracy", correct / (double) test.count());
            System.out.printf(Locale.ROOT, "EPOCH %s%n", m);
            return m;
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("date", java.time.Instant.now().toString());
        out.put("cores", Runtime.getRuntime().availableProcessors());
        if (args[0].equals("speed")) {
            out.put("rows", speed());
        } else if (args[0].equals("algos")) {
            out.put("rows", io.qsync.lowprec.cuda.CudnnAlgorithmSurvey.rows(1024));
        } else if (args[0].equals("half")) {
            out.put("rows", ab("qsync.cuda.halfTensors", "true", "half", Precision.FP16, Precision.BF16));
        } else if (args[0].equals("nhwc")) {
            out.put("rows", ab("qsync.cuda.halfTensors", "nhwc", "nhwc", Precision.FP16, Precision.BF16));
        } else if (args[0].equals("find")) {
            Precision[] all = {Precision.FP32, Precision.TF32, Precision.FP16, Precision.BF16};
            out.put("rows", ab("qsync.cuda.cudnn.find", "true", "find", all));
        } else if (args[0].equals("int8")) {
            out.put("rows", int8());
        } else if (args[0].equals("timeline")) {
            out.put("plans", StepTimelineBench.run(args.length > 2 ? Integer.parseInt(args[2]) : 1024));
        } else if (args[0].equals("int8-kernels")) {
            out.put("rows", io.qsync.lowprec.cuda.Int8ConvolutionKernelsBench.rows(256, 1024));
        } else {
            Path dir = args.length > 2 ? Path.of(args[2]) : FashionMnist.DEFAULT_DIR;
            LabeledImages tr = FashionMnist.load(dir, FashionMnist.Split.TRAIN);
            LabeledImages te = FashionMnist.load(dir, FashionMnist.Split.TEST);
            LocalShard train = tr.toShard();
            LocalShard test = te.toShard();
            out.put("cuda", epoch("cuda", train, test));
            out.put("cpu", epoch("cpu", train, test));
        }
        Files.writeString(Path.of(args[1]), Json.write(out));
    }
}
