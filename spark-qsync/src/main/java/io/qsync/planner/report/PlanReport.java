package io.qsync.planner.report;

import io.qsync.lowprec.Precision;
import io.qsync.planner.replay.PlanGraph;
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
 * Writes a plan directory: {@code plan.json}, {@code plan.txt} (table), {@code report.html} with
 * {@code precision.png} (per-layer precision per device type, in bits) and {@code timeline.png} (predicted
 * per-worker iteration, stacked by phase).
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
  public static void write(Path dir, ClusterPlan plan, PlanGraph graph, ReplayResult replay, List<String> notes)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("plan.json"), plan.toJson());
    String table = PlanTable.render(plan, graph);
    Files.writeString(dir.resolve("plan.txt"), table + "\n" + (notes.isEmpty() ? "" : String.join("\n", notes)
        + "\n\n") + replay.criticalPath());
    BitmapEncoder.saveBitmap(precisionChart(plan, graph), dir.resolve("precision.png").toString(),
        BitmapEncoder.BitmapFormat.PNG);
    BitmapEncoder.saveBitmap(timelineChart(replay), dir.resolve("timeline.png").toString(),
        BitmapEncoder.BitmapFormat.PNG);
    StringBuilder h = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>QSync plan: ")
        .append(esc(plan.model())).append("</title></head><body><h1>Precision plan for ").append(esc(plan.model()))
        .append("</h1><p>Predicted cluster iteration: <b>").append(String.format("%.3f ms", plan.clusterMillis()))
        .append("</b> (budget from the fastest start: ").append(String.format("%.3f ms", plan.budgetMillis()))
        .append(").</p>");
    boolean estimate = plan.devices().values().stream().anyMatch(DevicePlan::estimate);
    if (estimate) {
      h.append("<p><i>Some device profiles are datasheet estimates (shared/docs/anchors.md §4.1), not "
          + "measurements.</i></p>");
    }
    for (String n : notes) {
      h.append("<p>").append(esc(n)).append("</p>");
    }
    h.append("<h2>Plan</h2><pre>").append(esc(table)).append("</pre>")
        .append("<img src=\"precision.png\" alt=\"precision per layer\"><h2>Predicted timeline</h2>")
        .append("<img src=\"timeline.png\" alt=\"timeline\"><h2>Critical path</h2><pre>")
        .append(esc(replay.criticalPath())).append("</pre><h2>Workers</h2><table border=\"1\"><tr><th>type</th>"
            + "<th>batch</th><th>busy ms</th><th>wait ms</th><th>peak MiB</th><th>memory MiB</th></tr>");
    for (WorkerReplay w : replay.workers()) {
      h.append(String.format("<tr><td>%s</td><td>%d</td><td>%.3f</td><td>%.3f</td><td>%.1f</td><td>%.0f</td></tr>",
          esc(w.name()), w.batch(), w.busySeconds() * 1e3, w.waitSeconds() * 1e3, w.peakMemoryBytes() / 1048576.0,
          w.memoryBytes() / 1048576.0));
    }
    h.append("</table></body></html>");
    Files.writeString(dir.resolve("report.html"), h.toString());
  }

  private static CategoryChart precisionChart(ClusterPlan plan, PlanGraph graph) {
    CategoryChart c = new CategoryChartBuilder().width(900).height(420).title("Precision per layer (bits)")
        .xAxisTitle("layer").yAxisTitle("bits").build();
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
    CategoryChart c = new CategoryChartBuilder().width(900).height(420).title("Predicted iteration per worker (ms)")
        .xAxisTitle("worker").yAxisTitle("ms").build();
    c.getStyler().setStacked(true);
    List<String> names = r.workers().stream().map(WorkerReplay::name).toList();
    Map<String, List<Double>> byKind = new LinkedHashMap<>();
    for (String k : List.of("OPT", "OVERHEAD", "FWD", "BWD", "CAST", "WAIT", "ALLREDUCE")) {
      List<Double> v = new ArrayList<>();
      for (WorkerReplay w : r.workers()) {
        v.add(w.timeline().stream().filter(t -> t.kind().equals(k)).mapToDouble(TimelineNode::duration).sum() * 1e3);
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
