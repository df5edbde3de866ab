package io.qsync.planner.report;

import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.replay.ReplayResult;
import io.qsync.planner.replay.TimelineNode;
import io.qsync.planner.replay.WorkerReplay;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/**
 * Writes a plan directory: {@code plan.json}, {@code plan.txt} (table), {@code precision.png} (per-layer precision
 * per device type, in bits), {@code timeline.png} (predicted per-worker iteration, stacked by phase) and a
 * self-contained {@code report.html} (inline style, the two charts embedded, terms explained).
 */
public final class PlanReport {
    private PlanReport() {}

    /**
     * @param dir    output directory (created)
     * @param plan   the plan
     * @param graph  network
     * @param replay replay of the plan
     * @param notes  extra lines for the report (e.g. comparisons), may be empty
     * @throws IOException on write failure
     */
    public static void write(Path dir, ClusterPlan plan, LayerGraph graph, ReplayResult replay, List<String> notes)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("plan.json"), plan.toJson());
        String table = PlanTable.render(plan, graph);
        Files.writeString(
                dir.resolve("plan.txt"),
                table + "\n" + (notes.isEmpty() ? "" : String.join("\n", notes) + "\n\n") + replay.criticalPath());
        String precisionPng = chart(() -> precisionChart(plan, graph), dir.resolve("precision.png"));
        String timelinePng = chart(() -> timelineChart(replay), dir.resolve("timeline.png"));
        StringBuilder h = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>QSync plan: ")
                .append(esc(plan.model()))
                .append("</title><style>")
                .append(CSS)
                .append("</style></head><body><h1>Precision plan for ")
                .append(esc(plan.model()))
                .append("</h1><p>Predicted cluster iteration: <b>")
                .append(String.format("%.3f ms", plan.clusterMillis()))
                .append("</b> (budget from the fastest start: ")
                .append(String.format("%.3f ms", plan.budgetMillis()))
                .append(").</p>");
        boolean estimate = plan.devices().values().stream().anyMatch(DevicePlan::estimate);
        if (estimate) {
            h.append(
                    "<p><i>Some device profiles are estimates from vendors' datasheets (peak throughput per precision, "
                            + "memory bandwidth), not measurements; measure a machine with <code>qsync profile-device</code>.</i></p>");
        }
        for (String n : notes) {
            h.append("<p>").append(esc(n)).append("</p>");
        }
        h.append("<h2>Plan</h2><pre>")
                .append(esc(table))
                .append("</pre>")
                .append(img(precisionPng, "precision per layer"))
                .append("<h2>Predicted timeline</h2>")
                .append(img(timelinePng, "timeline"))
                .append("<h2>Critical path</h2><pre>")
                .append(esc(replay.criticalPath()))
                .append("</pre><h2>Workers</h2><table border=\"1\"><tr><th>type</th>"
                        + "<th>batch</th><th>busy ms</th><th>wait ms</th><th>peak MiB</th><th>memory MiB</th></tr>");
        for (WorkerReplay w : replay.workers()) {
            h.append(String.format(
                    "<tr><td>%s</td><td>%d</td><td>%.3f</td><td>%.3f</td><td>%.1f</td><td>%.0f</td></tr>",
                    esc(w.name()),
                    w.batch(),
                    w.busySeconds() * 1e3,
                    w.waitSeconds() * 1e3,
                    w.peakMemoryBytes() / 1048576.0,
                    w.memoryBytes() / 1048576.0));
        }
        h.append("</table>").append(TERMS).append("</body></html>");
        Files.writeString(dir.resolve("report.html"), h.toString());
    }

    /**
     * Writes the chart as a PNG file and returns it as a data URI, so that report.html needs no other file; "" when
     * this JVM cannot draw (a runtime without the native font libraries AWT loads, e.g. libharfbuzz): the charts are
     * illustrations, and a plan made inside a training job must not fail for them.
     */
    private static String chart(java.util.function.Supplier<CategoryChart> chart, Path png) throws IOException {
        byte[] bytes;
        try {
            bytes = BitmapEncoder.getBitmapBytes(chart.get(), BitmapEncoder.BitmapFormat.PNG);
        } catch (LinkageError | java.awt.AWTError | RuntimeException e) {
            System.getLogger(PlanReport.class.getName())
                    .log(
                            System.Logger.Level.WARNING,
                            png.getFileName() + " not drawn: this JVM cannot render charts (" + e + ")");
            return "";
        }
        Files.write(png, bytes);
        return "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(bytes);
    }

    private static String img(String dataUri, String alt) {
        return dataUri.isEmpty()
                ? "<p><i>(" + alt + ": chart not drawn, see the log)</i></p>"
                : "<img src=\"" + dataUri + "\" alt=\"" + alt + "\">";
    }

    private static final String CSS = "body{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 1em;"
            + "line-height:1.4}pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f6f6;padding:.5em}"
            + "img{max-width:100%}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2em .5em;"
            + "text-align:right}dt{font-weight:bold}";

    private static final String TERMS = "<h2>Terms</h2><dl>"
            + "<dt>iteration, budget</dt><dd>One synchronous training step of the whole cluster; all workers wait for the "
            + "slowest. The budget is the iteration time of the fastest plan that fits memory; precision is raised on the "
            + "most sensitive layers as long as no worker becomes slower than that.</dd>"
            + "<dt>FP32, TF32, BF16, FP16, FP8, INT8</dt><dd>Number formats of a layer's computation, from 32-bit floating "
            + "point down to 8-bit integers: fewer bits run faster on inference GPUs but add rounding error.</dd>"
            + "<dt>FWD, BWD, CAST, OPT, OVERHEAD</dt><dd>Forward pass, backward pass, conversions between precisions, "
            + "optimizer update, and fixed per-step costs of one worker.</dd>"
            + "<dt>WAIT, ALLREDUCE</dt><dd>Time a worker idles for slower ones, and the summing of gradients across workers "
            + "over the network.</dd>"
            + "<dt>critical path</dt><dd>The chain of operations that decides the iteration time.</dd>"
            + "<dt>DB</dt><dd>Dynamic batching, the alternative to quantizing: every device keeps its highest precision and "
            + "the batch is split unevenly so that slow devices get fewer samples.</dd>"
            + "<dt>peak MiB, memory MiB</dt><dd>Predicted peak memory of a worker, and the memory its device has.</dd></dl>";

    private static CategoryChart precisionChart(ClusterPlan plan, LayerGraph graph) {
        CategoryChart c = new CategoryChartBuilder()
                .width(900)
                .height(420)
                .title("Precision per layer (bits)")
                .xAxisTitle("layer")
                .yAxisTitle("bits")
                .build();
        List<String> ids = graph.switchableIds();
        for (Map.Entry<String, DevicePlan> e : plan.devices().entrySet()) {
            List<Double> bits = new ArrayList<>();
            for (String id : ids) {
                bits.add(bits(e.getValue().layers().getOrDefault(id, Precision.FP32)));
            }
            c.addSeries(e.getKey(), ids, bits);
        }
        c.getStyler().setXAxisLabelRotation(45);
        return c;
    }

    private static CategoryChart timelineChart(ReplayResult r) {
        CategoryChart c = new CategoryChartBuilder()
                .width(900)
                .height(420)
                .title("Predicted iteration per worker (ms)")
                .xAxisTitle("worker")
                .yAxisTitle("ms")
                .build();
        c.getStyler().setStacked(true);
        List<String> names = r.workers().stream().map(WorkerReplay::name).toList();
        Map<String, List<Double>> byKind = new LinkedHashMap<>();
        for (String k : List.of("OPT", "OVERHEAD", "FWD", "BWD", "CAST", "WAIT", "ALLREDUCE")) {
            List<Double> v = new ArrayList<>();
            for (WorkerReplay w : r.workers()) {
                v.add(w.timeline().stream()
                                .filter(t -> t.kind().equals(k))
                                .mapToDouble(TimelineNode::duration)
                                .sum()
                        * 1e3);
            }
            byKind.put(k, v);
        }
        byKind.forEach((k, v) -> c.addSeries(k, names, v));
        return c;
    }

    private static double bits(Precision p) {
        return switch (p) {
            case TF32 -> 19;
            default -> 8.0 * p.storageBytes();
        };
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
