package io.qsync.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.cuda.CudaPresence;
import io.qsync.lowprec.cuda.CudaTensorOps;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.models.DemoModels;
import io.qsync.runtime.HostBatch;
import io.qsync.runtime.ModelSpec;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.deeplearning4j.nn.api.Model;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How far precision plans move the VGG-style CNN's training on the GPU from FP32 on the same GPU, at the hybrid jobs'
 * 256 rows: the first gradient's relative L2 error per weight block, and the parameters and losses after 30 Adam
 * steps. A mixed plan (FP32 first convolution and dense layer, the other convolutions in TF32 or FP16: the planner's
 * plan for the weak slice) is more precise, layer by layer, than the weak slice in uniform INT8, so it must not drift
 * further than it; a plan that does points at the mixed path, not at its formats. FP32 trained twice must agree bit for
 * bit. Skipped with a message where this process sees no CUDA device.
 */
class VggPlanDriftGpuTest {
    private static final int ROWS = 256;
    private static final int STEPS = 30;

    @BeforeEach
    void needsDevice() {
        String why = CudaPresence.whyUnavailable();
        Assumptions.assumeTrue(why == null, () -> "VggPlanDriftGpuTest skipped: " + why);
    }

    /** One plan's training: its first gradient, its parameters after the last step, its last five losses' mean. */
    private record Trace(float[] firstGradient, float[] params, double lastLosses, String paths) {}

    /** A plan's drift from FP32: first-gradient rel L2 per weight block, parameters' rel L2 after the last step. */
    private record Drift(Map<String, Double> firstGradient, double params) {}

    private static Map<String, Precision> all(Precision p, boolean ends) {
        Map<String, Precision> m = new TreeMap<>();
        for (int i = 0; i < 6; i++) {
            m.put("conv_" + i, ends || i > 0 ? p : Precision.FP32);
        }
        m.put("dense_0", ends ? p : Precision.FP32);
        return m;
    }

    private static float[] floats(FloatBuffer b) {
        float[] out = new float[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static Trace train(ModelSpec spec, Map<String, Precision> layers, List<HostBatch> batches) {
        Model m = EngineParity.planned(spec.restore(), layers == null ? null : new PrecisionPlan(layers));
        try (ProgramEngine e = ProgramEngine.open(m, CudaTensorOps.open(0, false), "drift", ROWS)) {
            float[] g0 = null;
            double last = 0;
            for (int s = 0; s < STEPS; s++) {
                double loss = e.computeGradient(batches.get(s));
                if (s == 0) {
                    g0 = floats(e.gradient());
                }
                if (s >= STEPS - 5) {
                    last += loss / 5;
                }
                e.applyUpdate(ROWS, 0);
            }
            FloatBuffer p = FloatBuffer.allocate((int) e.numParams());
            e.readParams(p);
            return new Trace(g0, p.array(), last, e.convolutionPath());
        }
    }

    private static Drift drift(ModelSpec spec, Trace ref, Trace t) {
        Map<String, Double> perBlock = new LinkedHashMap<>();
        int off = 0;
        for (Map.Entry<String, org.nd4j.linalg.api.ndarray.INDArray> b :
                spec.restore().paramTable().entrySet()) {
            int len = (int) b.getValue().length();
            if (b.getKey().endsWith("_W")) {
                perBlock.put(b.getKey(), relL2(ref.firstGradient(), t.firstGradient(), off, len));
            }
            off += len;
        }
        return new Drift(perBlock, relL2(ref.params(), t.params(), 0, ref.params().length));
    }

    private static double relL2(float[] ref, float[] got, int off, int len) {
        double num = 0;
        double den = 0;
        for (int i = off; i < off + len; i++) {
            double d = (double) got[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    @Test
    void mixedPlansDriftNoFurtherThanUniformInt8() {
        assertTimeoutPreemptively(Duration.ofMinutes(6), () -> {
            ModelSpec spec = ModelSpec.of(EngineParity.init(DemoModels.vggCnn(7, 1e-3)));
            List<HostBatch> batches = new ArrayList<>();
            for (int s = 0; s < STEPS; s++) {
                batches.add(EngineParity.batch(s * ROWS, ROWS));
            }
            Trace fp32 = train(spec, null, batches);
            Map<String, Map<String, Precision>> plans = new LinkedHashMap<>();
            plans.put("INT8 uniform (b's weak slice)", all(Precision.INT8, true));
            plans.put("TF32 conv_1-5 (c's weak slice)", all(Precision.TF32, false));
            plans.put("FP16 conv_1-5 (f)", all(Precision.FP16, false));
            plans.put("TF32 uniform", all(Precision.TF32, true));
            plans.put("FP16 uniform", all(Precision.FP16, true));
            plans.put("FP32 again", null);
            Map<String, Drift> drifts = new LinkedHashMap<>();
            System.out.printf("VGG drift, FP32: last-5 loss %.5f; %s%n", fp32.lastLosses(), fp32.paths());
            for (Map.Entry<String, Map<String, Precision>> p : plans.entrySet()) {
                Trace t = train(spec, p.getValue(), batches);
                Drift d = drift(spec, fp32, t);
                drifts.put(p.getKey(), d);
                System.out.printf(
                        "VGG drift, %s: first-gradient rel L2 %s; params after %d steps rel L2 %.3e; last-5 loss "
                                + "%.5f (FP32 %.5f); %s%n",
                        p.getKey(),
                        format(d.firstGradient()),
                        STEPS,
                        d.params(),
                        t.lastLosses(),
                        fp32.lastLosses(),
                        t.paths());
            }
            Drift int8 = drifts.get("INT8 uniform (b's weak slice)");
            List<String> worse = new ArrayList<>();
            for (String mixed : List.of("TF32 conv_1-5 (c's weak slice)", "FP16 conv_1-5 (f)")) {
                Drift d = drifts.get(mixed);
                d.firstGradient().forEach((k, v) -> {
                    if (v > int8.firstGradient().get(k)) {
                        worse.add(mixed + " " + k + ": " + v + " > INT8 "
                                + int8.firstGradient().get(k));
                    }
                });
                if (d.params() > int8.params()) {
                    worse.add(mixed + " params: " + d.params() + " > INT8 " + int8.params());
                }
            }
            Drift again = drifts.get("FP32 again");
            if (again.params() != 0 || again.firstGradient().values().stream().anyMatch(v -> v != 0)) {
                worse.add("FP32 twice differs (the engine should be deterministic): " + again);
            }
            assertTrue(worse.isEmpty(), String.join("\n", worse));
        });
    }

    private static String format(Map<String, Double> m) {
        StringBuilder b = new StringBuilder();
        m.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append(String.format(" %.2e", v)));
        return b.toString();
    }
}
