package io.qsync.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.indicator.GvarIndicator;
import io.qsync.planner.indicator.Indicator;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.indicator.Indicators;
import io.qsync.planner.stats.ModelStatistics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code qsync indicator --stats stats.json --graph graph.json}: prints ω per layer and precision as JSON,
 * {@code {"gvar":{"conv_0":{"INT8":...}}, "wvar":{...}, "hess":{...}}}.
 */
@Command(
        name = "indicator",
        mixinStandardHelpOptions = true,
        description = "Print the sensitivity indicators ω(layer, precision) as JSON.")
public final class IndicatorCommand implements Callable<Integer> {

    @Option(names = "--stats", required = true, description = "stats.json from profile-stats.")
    Path stats;

    @Option(names = "--graph", required = true, description = "graph.json from profile-stats.")
    Path graph;

    @Option(names = "--indicator", split = ",", description = "gvar, wvar, hess (comma-separated). Default: all.")
    List<String> indicators = new ArrayList<>(List.of("gvar", "wvar", "hess"));

    @Option(names = "--precisions", split = ",", description = "Precision menu. Default: all precisions.")
    List<Precision> precisions = new ArrayList<>(List.of(Precision.values()));

    @Option(names = "--gamma", description = "GVAR γ. Default: ${DEFAULT-VALUE}.")
    double gamma = GvarIndicator.DEFAULT_GAMMA;

    @Option(names = "--k", description = "GVAR k for FP16. Default: ${DEFAULT-VALUE}.")
    int k = GvarIndicator.DEFAULT_K;

    @Override
    public Integer call() throws Exception {
        ModelStatistics st = ModelStatistics.fromJson(Files.readString(stats));
        LayerGraph g = LayerGraph.fromJson(Files.readString(graph));
        Map<String, Map<String, Map<Precision, Double>>> out = new LinkedHashMap<>();
        for (String name : indicators) {
            Indicator ind = name.equalsIgnoreCase("gvar") ? new GvarIndicator(gamma, k) : Indicators.byName(name);
            IndicatorTable t = ind.compute(st, g, precisions);
            out.put(ind.name(), t.omega());
        }
        System.out.println(
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out));
        return 0;
    }
}
