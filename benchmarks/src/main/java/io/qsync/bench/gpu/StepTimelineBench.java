package io.qsync.bench.gpu;

import io.qsync.backend.cuda.ProgramEngine;
import io.qsync.bench.Medians;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.CudaEventMarks;
import io.qsync.lowprec.cuda.CudaTensorOps;
import io.qsync.models.DemoModels;
import io.qsync.runtime.HostBatch;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.deeplearning4j.nn.api.Model;

/**
 * Where the VGG-style CNN's training step spends its device time, op by op ({@link OpTimeline}), for the speed rows of
 * issue 10 that trail PyTorch: FP32, TF32, the FP16 plan and the all-INT8 plan. Each configuration runs eagerly with a
 * CUDA event after every op (median of five steps after three warm-ups), then, in a fresh engine, replayed as in
 * {@code CudaEngineBench speed}, so the op sum can be set beside the step the speed rows time. PyTorch's kernels for the
 * same step come from {@code torch_peer.py --profile} in the same device call.
 */
final class StepTimelineBench {
    private static final int WARMUP = 3;
    private static final int WINDOWS = 5;

    private StepTimelineBench() {}

    private record Config(String name, boolean tf32, Supplier<Model> model) {}

    /** One map per configuration: its ops' median ms in step order, the sums per call and the replayed step. */
    static List<Map<String, Object>> run(int batch) {
        List<Config> configs = List.of(
                new Config("FP32", false, () -> CudaEngineBench.init(DemoModels.vggCnn(7, 1e-3))),
                new Config("TF32", true, () -> CudaEngineBench.init(DemoModels.vggCnn(7, 1e-3))),
                new Config(
                        "FP16 plan", false, () -> CudaEngineBench.planned(DemoModels.vggCnn(7, 1e-3), Precision.FP16)),
                new Config(
                        "INT8 plan", false, () -> CudaEngineBench.planned(DemoModels.vggCnn(7, 1e-3), Precision.INT8)));
        List<Map<String, Object>> out = new ArrayList<>();
        for (Config c : configs) {
            try {
                out.add(one(c, batch));
            } catch (RuntimeException e) {
                System.out.println("TIMELINE " + c.name() + " failed: " + e);
                e.printStackTrace(System.out);
            }
        }
        return out;
    }

    private static Map<String, Object> one(Config c, int batch) {
        Map<String, Double> ops = new LinkedHashMap<>();
        String path;
        Model model = c.model().get();
        CudaTensorOps cuda = CudaTensorOps.open(0, c.tf32());
        CudaEventMarks marks = null;
        ProgramEngine engine;
        OpTimeline timeline;
        try { // the engine owns the ops once open; until then a failure must free the device here
            marks = new CudaEventMarks(cuda, 4096);
            timeline = new OpTimeline(cuda, marks);
            engine = ProgramEngine.open(model, timeline.ops(), "cuda", batch, false);
        } catch (RuntimeException x) {
            if (marks != null) {
                marks.close();
            }
            cuda.close();
            throw x;
        }
        try (ProgramEngine e = engine) {
            HostBatch[] bs = {CudaEngineBench.randomBatch(batch, 784, 17), CudaEngineBench.randomBatch(batch, 784, 18)};
            for (int i = 0; i < WARMUP + WINDOWS; i++) {
                if (i >= WARMUP) {
                    timeline.arm();
                }
                e.computeGradient(bs[i % 2]);
                e.applyLocalUpdate(batch, 0); // as timeSteps and a one-worker job
                if (i >= WARMUP) {
                    timeline.collect();
                }
            }
            path = e.convolutionPath() + " " + e.convolutionPaths();
            timeline.samples().forEach((k, v) -> ops.put(k, Medians.of(v)));
        } finally {
            marks.close();
        }
        double replayed;
        try (ProgramEngine e = ProgramEngine.open(c.model().get(), CudaTensorOps.open(0, c.tf32()), "cuda", batch)) {
            replayed = CudaEngineBench.timeSteps(e, batch, 10, 30);
        }
        return report(c.name(), batch, ops, replayed, path);
    }

    private static Map<String, Object> report(
            String name, int batch, Map<String, Double> ops, double replayed, String path) {
        Map<String, Double> calls = new TreeMap<>();
        double total = 0;
        for (Map.Entry<String, Double> o : ops.entrySet()) {
            calls.merge(call(o.getKey()), o.getValue(), Double::sum);
            total += o.getValue();
        }
        System.out.printf(
                Locale.ROOT,
                "TIMELINE %-9s batch %d: %d ops, eager device sum %.3f ms; replayed step %.3f ms; conv %s%n",
                name,
                batch,
                ops.size(),
                total,
                replayed,
                path);
        List<Map.Entry<String, Double>> byCall = new ArrayList<>(calls.entrySet());
        byCall.sort(Collections.reverseOrder(Map.Entry.comparingByValue()));
        for (Map.Entry<String, Double> e : byCall) {
            System.out.printf(Locale.ROOT, "CALLS %-9s %-28s %8.3f ms%n", name, e.getKey(), e.getValue());
        }
        List<Map.Entry<String, Double>> top = new ArrayList<>(ops.entrySet());
        top.sort(Collections.reverseOrder(Map.Entry.comparingByValue()));
        for (Map.Entry<String, Double> e : top.subList(0, Math.min(25, top.size()))) {
            System.out.printf(Locale.ROOT, "OPS %-9s %-44s %8.3f ms%n", name, e.getKey(), e.getValue());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("config", name);
        m.put("batch", batch);
        m.put("eager_device_sum_ms", total);
        m.put("replayed_step_ms", replayed);
        m.put("convolution_path", path);
        m.put("calls_ms", calls);
        m.put("ops_ms", ops);
        return m;
    }

    /** The call of an op key ("012 conv3.forward[51380224]" → "conv.forward"). */
    static String call(String key) {
        String s = key.substring(key.indexOf(' ') + 1);
        int b = s.indexOf('[');
        if (b >= 0) {
            s = s.substring(0, b);
        }
        return s.replaceFirst("^conv\\d+\\.", "conv.").replaceFirst("^linear\\d+", "linear");
    }
}
