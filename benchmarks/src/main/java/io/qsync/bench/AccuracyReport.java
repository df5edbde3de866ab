package io.qsync.bench;

import io.qsync.lowprec.Precision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;
import org.apache.commons.math3.stat.inference.TTest;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/**
 * The accuracy study's report: the setting, every arm's plan and predicted inference-device time, every seed's test
 * accuracy, mean ± sd per arm, Welch's t-test (two-sided, unequal variances; Commons Math) of every arm against
 * uniform INT8, and a PNG bar chart with ± sd error bars next to the Markdown file.
 */
final class AccuracyReport {
    private static final String BASELINE = "uniform INT8";
    private final Path out;
    private final StudyPlans plans;
    private final Map<String, Map<String, Precision>> arms;
    private final Map<String, String> why;
    private final String setting;
    private final String machineAtStart;
    private final Instant start;
    private final String args;
    private final Map<String, List<TwoWorkerTraining.Result>> results = new LinkedHashMap<>();

    AccuracyReport(
            Path out,
            StudyPlans plans,
            Map<String, Map<String, Precision>> arms,
            Map<String, String> why,
            String setting,
            String machineAtStart,
            Instant start,
            String args) {
        this.out = out;
        this.plans = plans;
        this.arms = arms;
        this.why = why;
        this.setting = setting;
        this.machineAtStart = machineAtStart;
        this.start = start;
        this.args = args;
        arms.keySet().forEach(a -> results.put(a, new ArrayList<>()));
    }

    void add(String arm, TwoWorkerTraining.Result r) {
        results.get(arm).add(r);
    }

    void write() throws IOException {
        StringBuilder sb =
                new StringBuilder("# Accuracy study: per-layer plans vs uniform low precision (QSync's claim)\n\n");
        sb.append("- Started ")
                .append(start)
                .append(" on ")
                .append(machineAtStart)
                .append('\n');
        sb.append("- Now ")
                .append(Instant.now())
                .append(", wall ")
                .append(Duration.between(start, Instant.now()).toSeconds())
                .append(" s, ")
                .append(BenchEnv.machine())
                .append('\n');
        sb.append("- Command: `OMP_NUM_THREADS=1 nice -n 10 benchmarks/run.sh io.qsync.bench.AccuracyStudy ")
                .append(args)
                .append("`\n");
        sb.append("- Data and training: ").append(setting).append('\n');
        sb.append("- Plans: the planner's GreedyAllocator for ")
                .append(StudyPlans.TRAIN)
                .append(" (FP32, batch ")
                .append(StudyPlans.TRAIN_BATCH)
                .append(") + ")
                .append(StudyPlans.INFER)
                .append(" (menu ")
                .append(StudyPlans.MENU)
                .append(", batch ")
                .append(StudyPlans.INFER_BATCH)
                .append(
                        "), catalog estimates, ResNet-style CNN (11 switchable layers); training here uses the same 2:1 "
                                + "batch share at a CPU-sized batch\n");
        sb.append("- Execution: exact CPU emulation of every precision (nd4j-lowprec on ND4J's CPU backend, the same "
                + "numerics as its CUDA kernels, which are not wired into the trainer); no GPU was used\n\n");
        sb.append("## Plans of the inference worker\n\n| layer |");
        arms.keySet().forEach(a -> sb.append(' ').append(a).append(" |"));
        sb.append("\n|---|").append("---|".repeat(arms.size())).append('\n');
        for (String id : plans.layers()) {
            sb.append("| ").append(id).append(" |");
            arms.values().forEach(p -> sb.append(' ').append(p.get(id)).append(" |"));
            sb.append('\n');
        }
        sb.append("| predicted T4 ms/step |");
        arms.values().forEach(p -> sb.append(String.format(Locale.ROOT, " %.3f |", plans.inferenceSeconds(p) * 1e3)));
        sb.append("\n\n");
        why.forEach((a, w) -> sb.append("- ").append(a).append(": ").append(w).append('\n'));
        sb.append("\n## Test accuracy per seed\n\n| arm | ");
        int seeds = results.values().stream().mapToInt(List::size).max().orElse(0);
        for (int s = 0; s < seeds; s++) {
            sb.append("seed ").append(s).append(" | ");
        }
        sb.append("mean ± sd | vs uniform INT8 (mean diff, Welch t, p) |\n|---|")
                .append("---|".repeat(seeds + 2))
                .append('\n');
        double[] base = acc(BASELINE);
        for (String a : arms.keySet()) {
            double[] v = acc(a);
            sb.append("| ").append(a).append(" | ");
            for (int s = 0; s < seeds; s++) {
                sb.append(s < v.length ? String.format(Locale.ROOT, "%.4f", v[s]) : "")
                        .append(" | ");
            }
            sb.append(String.format(Locale.ROOT, "%.4f ± %.4f | ", mean(v), sd(v)));
            sb.append(a.equals(BASELINE) || v.length < 2 || base.length < 2 ? "—" : welch(v, base))
                    .append(" |\n");
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, sb.toString());
        chart();
    }

    private String welch(double[] v, double[] base) {
        TTest t = new TTest();
        return String.format(
                Locale.ROOT, "%+.4f, t = %.2f, p = %.3f", mean(v) - mean(base), t.t(v, base), t.tTest(v, base));
    }

    private void chart() throws IOException {
        List<String> names = new ArrayList<>();
        List<Double> means = new ArrayList<>();
        List<Double> sds = new ArrayList<>();
        for (String a : arms.keySet()) {
            double[] v = acc(a);
            if (v.length > 0) {
                names.add(a);
                means.add(100 * mean(v));
                sds.add(100 * sd(v));
            }
        }
        if (names.isEmpty()) {
            return;
        }
        CategoryChart c = new CategoryChartBuilder()
                .width(1000)
                .height(480)
                .title("Test accuracy per inference-worker plan (mean ± sd over seeds)")
                .xAxisTitle("arm")
                .yAxisTitle("test accuracy %")
                .build();
        double lo = means.stream().mapToDouble(Double::doubleValue).min().orElse(0) - 3;
        double hi = means.stream().mapToDouble(Double::doubleValue).max().orElse(100) + 2;
        c.getStyler().setYAxisMin(Math.floor(lo)).setYAxisMax(Math.ceil(hi)).setLegendVisible(false);
        c.addSeries("accuracy", names, means, sds);
        String file = out.getFileName().toString().replaceFirst("\\.md$", "") + ".png";
        BitmapEncoder.saveBitmap(c, out.resolveSibling(file).toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private double[] acc(String arm) {
        return results.get(arm).stream()
                .mapToDouble(TwoWorkerTraining.Result::testAccuracy)
                .toArray();
    }

    private static double mean(double[] v) {
        SummaryStatistics s = new SummaryStatistics();
        for (double x : v) {
            s.addValue(x);
        }
        return v.length == 0 ? Double.NaN : s.getMean();
    }

    private static double sd(double[] v) {
        SummaryStatistics s = new SummaryStatistics();
        for (double x : v) {
            s.addValue(x);
        }
        return v.length < 2 ? 0 : s.getStandardDeviation();
    }
}
