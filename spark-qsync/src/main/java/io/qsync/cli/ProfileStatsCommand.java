package io.qsync.cli;

import io.qsync.data.FashionMnist;
import io.qsync.data.LabeledImages;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.stats.ModelStatistics;
import io.qsync.profile.StatisticsCollector;
import io.qsync.runtime.LocalShard;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code qsync profile-stats}: builds a demo model (or loads a saved MultiLayerNetwork), converts it to switchable
 * layers, collects the indicator statistics over K FP32 Fashion-MNIST minibatches and writes
 * {@code graph.json} and {@code stats.json} for {@code qsync indicator}.
 */
@Command(
        name = "profile-stats",
        mixinStandardHelpOptions = true,
        description = "Collect per-layer statistics (stats.json) and the layer graph (graph.json) of a model.")
public final class ProfileStatsCommand implements Callable<Integer> {

    @Option(names = "--model", description = "Demo model: " + CliModels.NAMES + ". Default: ${DEFAULT-VALUE}.")
    String model = "fashion-cnn";

    @Option(
            names = "--checkpoint",
            description = "Saved MultiLayerNetwork (.zip) to profile instead of a fresh --model.")
    File checkpoint;

    @Option(names = "--batches", description = "FP32 minibatches K. Default: ${DEFAULT-VALUE}.")
    int batches = StatisticsCollector.DEFAULT_BATCHES;

    @Option(names = "--batch-size", description = "Examples per minibatch. Default: ${DEFAULT-VALUE}.")
    int batchSize = 64;

    @Option(
            names = "--hutchinson",
            description = "Hutchinson probes for the Hessian trace (0 = skip). " + "Default: ${DEFAULT-VALUE}.")
    int hutchinson = StatisticsCollector.DEFAULT_HUTCHINSON_SAMPLES;

    @Option(names = "--seed", description = "Model and probe seed. Default: ${DEFAULT-VALUE}.")
    long seed = 42;

    @Option(names = "--data-dir", description = "Fashion-MNIST directory. Default: ${DEFAULT-VALUE}.")
    Path dataDir = FashionMnist.DEFAULT_DIR;

    @Option(names = "--out", required = true, description = "Output directory for graph.json and stats.json.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (batches < 1 || batchSize < 1) {
            throw new IllegalArgumentException("--batches and --batch-size must be >= 1");
        }
        LabeledImages train =
                FashionMnist.load(dataDir, FashionMnist.Split.TRAIN).head(batches * batchSize);
        LocalShard shard = train.toShard();
        List<DataSet> data = new ArrayList<>();
        for (int k = 0; k < batches && (k + 1) * batchSize <= shard.count(); k++) {
            data.add(shard.batch(null, k * batchSize, (k + 1) * batchSize, LabeledImages.NUM_CLASSES));
        }
        Model net = CliModels.build(model, checkpoint, seed);
        LayerGraph graph = CliModels.graph(model, net);
        ModelStatistics stats = new StatisticsCollector(hutchinson, StatisticsCollector.DEFAULT_EPSILON, seed)
                .collect(net, graph, data);
        Files.createDirectories(out);
        Files.writeString(out.resolve("graph.json"), graph.toJson());
        Files.writeString(out.resolve("stats.json"), stats.toJson());
        System.out.println("wrote " + out.resolve("graph.json") + " and " + out.resolve("stats.json") + " ("
                + stats.layers().size() + " switchable layers, K=" + data.size() + ")");
        return 0;
    }
}
