package io.qsync.bench;

import io.qsync.backend.cpu.CpuEngine;
import io.qsync.backend.cpu.LayerTimeRecorder;
import io.qsync.bench.InterleavedPlanRunner.Pair;
import io.qsync.data.FashionMnist;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.cost.Interconnect;
import io.qsync.planner.cost.StepCalibration;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.replay.PredictorMemory;
import io.qsync.planner.replay.ReplayResult;
import io.qsync.planner.replay.Replayer;
import io.qsync.planner.replay.WorkerSpec;
import io.qsync.profile.NetworkGraphs;
import io.qsync.profile.Profiler;
import io.qsync.runtime.LocalShard;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.SyncStep;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Replayer vs reality on 2 workers: the foundation trainer's synchronous step ({@link InterleavedPlanRunner}: 2 worker
 * threads, TCP ring on loopback, 1 native thread each, as in {@code local[2]}) runs every plan pair of the study in
 * short blocks, cycling through all pairs in a new random order each cycle, so that all pairs are measured across
 * the whole study and the VM's slow speed drift cannot favour one pair. Calibration pairs (rotations: switchable
 * layer {@code j} at {@code menu[(j+k) mod 6]}, worker 1 three steps further; plus random pairs) give per-layer
 * costs from the layers' in-step timing hook, and {@link StepCalibration} fits the remainder; the reported pairs
 * (uniform and mixed, none of them a calibration plan) are predicted by the {@link Replayer} from the resulting
 * profile and measured as the median step time over all their timed steps. Usage:
 * {@code ReplayerVsRealityBench <results.md> [cycles=16] [blockSteps=10] [skipSteps=2] [maxLoad=2.5]
 * [bucketBytes=25 MiB]}.
 */
public final class ReplayerVsRealityBench {
    private static final int GLOBAL = 128;
    private static final int CAL_RANDOM = 6;
    private static final List<Precision> MENU =
            List.of(Precision.FP32, Precision.TF32, Precision.BF16, Precision.FP16, Precision.FP8_E4M3, Precision.INT8);

    private ReplayerVsRealityBench() {}

    /** Runs the study. */
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "benchmarks/results/replayer.md");
        int cycles = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int block = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int skip = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        double maxLoad = args.length > 4 ? Double.parseDouble(args[4]) : 2.5;
        long bucketBytes = args.length > 5 ? Long.parseLong(args[5]) : SyncStep.DEFAULT_BUCKET_BYTES;
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.getEnvironment().setMaxMasterThreads(1);
        Nd4j.factory().blas().setMaxThreads(1);
        LocalShard data =
                FashionMnist.load(FashionMnist.Split.TRAIN).head(GLOBAL * 40).toShard();
        MultiLayerNetwork base = new MultiLayerNetwork(DemoModels.fashionCnn(1, 1e-3));
        base.init();
        MultiLayerNetwork net = SwitchableLayers.convert(base);
        LayerGraph graph = NetworkGraphs.of(net).withName("fashion-cnn");
        Map<String, Integer> index = CpuEngine.of(net).switchableLayers();
        List<String> sw = new ArrayList<>(index.keySet());
        List<Pair> val = validationPairs(sw);
        List<Map<String, Precision>> valPlans = new ArrayList<>();
        val.forEach(v -> valPlans.addAll(v.plans()));
        List<Pair> cal = new ArrayList<>();
        for (int k = 0; k < MENU.size(); k++) {
            cal.add(new Pair("rot" + k + " | rot" + ((k + 3) % 6), rot(sw, k), rot(sw, k + 3)));
        }
        Random rnd = new Random(20261126);
        while (cal.size() < MENU.size() + CAL_RANDOM) {
            Map<String, Precision> a = random(sw, rnd);
            Map<String, Precision> b = random(sw, rnd);
            if (!valPlans.contains(a) && !valPlans.contains(b)) {
                cal.add(new Pair("random " + compact(a) + " | " + compact(b), a, b));
            }
        }
        for (Pair v : val) {
            for (Pair c : cal) {
                if (c.plans().contains(v.w0()) || c.plans().contains(v.w1())) {
                    throw new IllegalStateException("validation plan " + v.name() + " is also a calibration plan");
                }
            }
        }
        List<Pair> all = new ArrayList<>(cal);
        all.addAll(val);
        InterleavedPlanRunner runner = new InterleavedPlanRunner(ModelSpec.of(net), data, GLOBAL / 2, bucketBytes);
        String loadStart = waitForLoad(maxLoad);
        long t0 = System.nanoTime();
        runner.run(all, order(all.size(), 1, rnd), new int[all.size()], 4, 2); // JIT warm-up of every precision
        int[] schedule = order(all.size(), cycles, rnd);
        int[] cycleOf = new int[schedule.length];
        for (int b = 0; b < schedule.length; b++) {
            cycleOf[b] = b / all.size();
        }
        List<InterleavedPlanRunner.Measured> m = runner.run(all, schedule, cycleOf, block, skip);
        double minutes = (System.nanoTime() - t0) / 60e9;
        String loadEnd = load();
        StepCalibration calib = new StepCalibration(graph, index, GLOBAL / 2);
        for (int i = 0; i < cal.size(); i++) {
            calib.addRun(
                    cal.get(i).plans(),
                    Medians.of(m.get(i).stepMs()) / 1e3,
                    m.get(i).layers());
        }
        StepCalibration.Fit fit = calib.fit();
        StepCalibration.Fit scaled = calib.fit(true);
        Interconnect link = Profiler.measureLoopback(4L * graph.totalParams(), 3, 9);
        DeviceProfile prof = calib.toProfile(
                "cpu-1t-2workers",
                "trainer calibration, 2 workers, 1 native thread",
                fit,
                MENU,
                Runtime.getRuntime().maxMemory() / 2,
                link,
                2);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out.resolveSibling("cpu-1t-profile.json"), prof.toJson());
        Replayer r = new Replayer(graph, new PredictorMemory(), bucketBytes);
        StringBuilder md = header(args, sw, cycles, block, skip, loadStart, loadEnd, minutes, fit, scaled);
        md.append("| # | plans (worker 0 \\| worker 1) | CPU share | predicted ms | measured ms (median of all timed "
                + "steps) | first half / second half of the cycles | error | predicted layer sum ms | in-run layer sum ms |\n"
                + "|---|---|---|---|---|---|---|---|---|\n");
        double sumErr = 0;
        double signed = 0;
        for (int i = 0; i < val.size(); i++) {
            Pair v = val.get(i);
            InterleavedPlanRunner.Measured mv = m.get(cal.size() + i);
            ReplayResult pred = r.replay(List.of(
                    new WorkerSpec("w0", prof, v.w0(), GLOBAL / 2, 1),
                    new WorkerSpec("w1", prof, v.w1(), GLOBAL / 2, 1)));
            double predMs = pred.clusterSeconds() * 1e3;
            double direct = calib.predictSeconds(fit, v.plans()) * 1e3;
            if (Math.abs(direct - predMs) > 0.01 * direct) {
                System.out.printf(
                        "note: Replayer %.2f ms vs calibration model %.2f ms for %s%n", predMs, direct, v.name());
            }
            double meas = Medians.of(mv.stepMs());
            double err = (predMs - meas) / meas;
            sumErr += Math.abs(err);
            signed += err;
            md.append(String.format(
                    "| %d | %s | %.2f | %.2f | %.2f | %.2f / %.2f | %+.1f%% | %.2f | %.2f |%n",
                    i + 1,
                    cell(v.name()),
                    mv.layers().cpuShare(),
                    predMs,
                    meas,
                    half(mv, cycles, false),
                    half(mv, cycles, true),
                    100 * err,
                    1e3 * Math.max(calib.switchableSeconds(v.w0()), calib.switchableSeconds(v.w1())),
                    inRunLayerSum(index, v, mv.layers())));
        }
        md.append(String.format(
                "%nMean absolute error over %d held-out pairs: **%.2f%%** (signed mean %+.2f%%)%n",
                val.size(), 100 * sumErr / val.size(), 100 * signed / val.size()));
        md.append(
                "\n## Calibration pairs (fitted on; not reported above)\n\n| plans | CPU share | measured ms | model ms "
                        + "|\n|---|---|---|---|\n");
        for (int i = 0; i < cal.size(); i++) {
            md.append(String.format(
                    "| %s | %.2f | %.2f | %.2f |%n",
                    cell(cal.get(i).name()),
                    m.get(i).layers().cpuShare(),
                    Medians.of(m.get(i).stepMs()),
                    1e3 * calib.predictSeconds(fit, cal.get(i).plans())));
        }
        md.append("\n## Machine drift: median step time of all pairs per cycle (ms)\n\n");
        for (int c = 0; c < cycles; c++) {
            List<Double> v = new ArrayList<>();
            for (InterleavedPlanRunner.Measured x : m) {
                for (int j = 0; j < x.stepMs().size(); j++) {
                    if (x.cycleOfStep().get(j) == c) {
                        v.add(x.stepMs().get(j));
                    }
                }
            }
            md.append(String.format("%s%.1f", c == 0 ? "" : ", ", Medians.of(v)));
        }
        md.append("\n\n## Per-layer in-step costs (ms, forward + backward, medians over the calibration pairs)\n\n"
                + "| layer |");
        MENU.forEach(p -> md.append(' ').append(p).append(" |"));
        md.append("\n|---|").append("---|".repeat(MENU.size())).append('\n');
        for (String id : sw) {
            md.append("| ").append(id).append(" |");
            for (Precision p : MENU) {
                md.append(String.format(
                        " %.2f + %.2f |",
                        1e3 * calib.layerSeconds(id, p, false), 1e3 * calib.layerSeconds(id, p, true)));
            }
            md.append('\n');
        }
        Files.writeString(out, md.toString());
        System.out.println(md);
    }

    private static StringBuilder header(
            String[] args,
            List<String> sw,
            int cycles,
            int block,
            int skip,
            String loadStart,
            String loadEnd,
            double minutes,
            StepCalibration.Fit fit,
            StepCalibration.Fit scaled) {
        return new StringBuilder("# Replayer vs reality (2 workers, TCP ring, 1 native thread each)\n\n")
                .append("- Machine: ")
                .append(BenchEnv.machine())
                .append("\n- Date: ")
                .append(ZonedDateTime.now())
                .append("\n- Command: `benchmarks/run.sh io.qsync.bench.ReplayerVsRealityBench ")
                .append(String.join(" ", args))
                .append("`\n- Load average (1 min) at the start ")
                .append(loadStart)
                .append(", at the end ")
                .append(loadEnd)
                .append(" (the study's own two busy workers add about 2); ")
                .append(String.format("%.1f", minutes))
                .append(" minutes\n- Model: DemoModels.fashionCnn, switchable ")
                .append(sw)
                .append(", global batch ")
                .append(GLOBAL)
                .append(" (64 per worker)\n")
                .append(
                        "- Method: the trainer's `SyncStep` (local gradient, TCP-ring all-reduce of the gradient in buckets "
                                + "overlapped with the backward pass, the loss in the last bucket, updater) on 2 worker threads; every "
                                + "plan pair runs in blocks of ")
                .append(block)
                .append(" steps (the first ")
                .append(skip)
                .append(" untimed), ")
                .append(cycles)
                .append(
                        " cycles through all pairs, each cycle in a new random order, after one warm-up cycle. A pair's "
                                + "measurement is the median of rank 0's step wall times over all its timed steps. The switchable layers "
                                + "time themselves inside `computeGradient` (`LayerTiming` hook) during the timed steps of each block. "
                                + "The 12 calibration pairs (6 rotations: layer j at menu[(j+k) mod 6], worker 1 at k+3; 6 random pairs, "
                                + "seed 20261126, none equal to a reported plan) give per-layer forward/backward medians per precision; "
                                + "the step is `T = R + max_w Σ_l c(l, p_w(l))` (both workers compute, then the all-reduces at the "
                                + "slowest link, then the updater) with R the least-squares remainder over the calibration pairs: ")
                .append(String.format(
                        "R = %.2f ms, calibration rms residual %.1f%% over %d pairs (diagnostic two-parameter "
                                + "fit: R = %.2f ms, κ = %.3f, rms %.1f%%). ",
                        fit.remainderSeconds() * 1e3,
                        100 * fit.rmsRelativeError(),
                        fit.runs(),
                        scaled.remainderSeconds() * 1e3,
                        scaled.kappa(),
                        100 * scaled.rmsRelativeError()))
                .append(
                        "The profile (`cpu-1t-profile.json`) feeds the Replayer, whose prediction is reported for plan pairs "
                                + "that were not calibration pairs.\n\n");
    }

    /** a plan-pair name as a Markdown table cell */
    private static String cell(String name) {
        return name.replace("|", "\\|");
    }

    /** median step time of the first or second half of the cycles */
    private static double half(InterleavedPlanRunner.Measured m, int cycles, boolean second) {
        List<Double> v = new ArrayList<>();
        for (int j = 0; j < m.stepMs().size(); j++) {
            if ((m.cycleOfStep().get(j) >= cycles / 2) == second) {
                v.add(m.stepMs().get(j));
            }
        }
        return Medians.of(v);
    }

    /** blocks of {@code cycles} cycles over {@code n} pairs, each cycle a fresh permutation */
    private static int[] order(int n, int cycles, Random rnd) {
        int[] s = new int[n * cycles];
        for (int c = 0; c < cycles; c++) {
            List<Integer> perm = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                perm.add(i);
            }
            java.util.Collections.shuffle(perm, rnd);
            for (int i = 0; i < n; i++) {
                s[c * n + i] = perm.get(i);
            }
        }
        return s;
    }

    /** max over the two workers of the summed in-run layer medians (diagnostic: what the pair's layers really took) */
    private static double inRunLayerSum(Map<String, Integer> index, Pair p, LayerTimeRecorder rec) {
        double m = 0;
        for (Map<String, Precision> plan : p.plans()) {
            double s = 0;
            for (Map.Entry<String, Integer> e : index.entrySet()) {
                Precision q = plan.getOrDefault(e.getKey(), Precision.FP32);
                s += rec.medianSeconds(e.getValue(), q, false) + rec.medianSeconds(e.getValue(), q, true);
            }
            m = Math.max(m, s);
        }
        return 1e3 * m;
    }

    private static String waitForLoad(double max) throws Exception {
        long until = System.currentTimeMillis() + 600_000;
        String l = load();
        while (Double.parseDouble(l) >= max && System.currentTimeMillis() < until) {
            Thread.sleep(5000);
            l = load();
        }
        return l;
    }

    private static String load() throws Exception {
        return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    }

    private static List<Pair> validationPairs(List<String> sw) {
        List<Pair> v = new ArrayList<>();
        for (Precision p : MENU) {
            v.add(new Pair("uniform " + p, uni(sw, p), uni(sw, p)));
        }
        v.add(new Pair("FP32 | INT8", uni(sw, Precision.FP32), uni(sw, Precision.INT8)));
        v.add(new Pair("FP16 | FP8", uni(sw, Precision.FP16), uni(sw, Precision.FP8_E4M3)));
        v.add(new Pair(
                "mixed A (INT8,FP16,FP32) | FP32",
                mixed(sw, Precision.INT8, Precision.FP16, Precision.FP32),
                uni(sw, Precision.FP32)));
        v.add(new Pair(
                "mixed B (FP32,INT8,BF16) | mixed C (FP8,FP32,INT8)",
                mixed(sw, Precision.FP32, Precision.INT8, Precision.BF16),
                mixed(sw, Precision.FP8_E4M3, Precision.FP32, Precision.INT8)));
        v.add(new Pair(
                "mixed D (BF16,BF16,INT8) | BF16",
                mixed(sw, Precision.BF16, Precision.BF16, Precision.INT8),
                uni(sw, Precision.BF16)));
        v.add(new Pair(
                "INT8 | mixed E (FP16,INT8,FP32)",
                uni(sw, Precision.INT8),
                mixed(sw, Precision.FP16, Precision.INT8, Precision.FP32)));
        return v;
    }

    private static Map<String, Precision> rot(List<String> ids, int k) {
        Map<String, Precision> m = new LinkedHashMap<>();
        for (int j = 0; j < ids.size(); j++) {
            m.put(ids.get(j), MENU.get((j + k) % MENU.size()));
        }
        return m;
    }

    private static Map<String, Precision> random(List<String> ids, Random rnd) {
        Map<String, Precision> m = new LinkedHashMap<>();
        ids.forEach(id -> m.put(id, MENU.get(rnd.nextInt(MENU.size()))));
        return m;
    }

    private static String compact(Map<String, Precision> plan) {
        List<String> s = new ArrayList<>();
        plan.values().forEach(p -> s.add(p.name().replace("_E4M3", "")));
        return "(" + String.join(",", s) + ")";
    }

    private static Map<String, Precision> uni(List<String> ids, Precision p) {
        Map<String, Precision> m = new LinkedHashMap<>();
        ids.forEach(id -> m.put(id, p));
        return m;
    }

    private static Map<String, Precision> mixed(List<String> ids, Precision... ps) {
        Map<String, Precision> m = new LinkedHashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            m.put(ids.get(i), ps[i % ps.length]);
        }
        return m;
    }
}
