package io.qsync.cli;

import io.qsync.data.FashionMnist;
import io.qsync.data.LabeledImages;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.stats.ModelStatistics;
import io.qsync.profile.StatisticsCollector;
import io.qsync.runtime.LocalShard;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Indicator statistics from the network's real training state rather than its random initialisation: the network
 * first trains {@code warmupSteps} FP32 steps of {@code batch} Fashion-MNIST training images (its own updater), then
 * the statistics are collected over the next {@link StatisticsCollector#DEFAULT_BATCHES} batches. The default warm-up
 * is {@link #DEFAULT_WARMUP_STEPS} steps of {@link #DEFAULT_BATCH} (1 600 images: about a minute of CPU emulation for
 * the ResNet-style CNN, past the first steps' transient of a freshly initialised network); 0 keeps the given state
 * (e.g. a trained checkpoint).
 */
final class TrainedStatistics {
    /** Default FP32 warm-up steps before the statistics. */
    static final int DEFAULT_WARMUP_STEPS = 50;
    /** Default examples per warm-up and statistics batch. */
    static final int DEFAULT_BATCH = 32;

    private TrainedStatistics() {}

    /**
     * @param net         network with switchable layers, trained in place by the warm-up
     * @param graph       its layer graph
     * @param dataDir     Fashion-MNIST directory
     * @param warmupSteps FP32 steps before the statistics (≥ 0)
     * @param batch       examples per batch
     * @param hutchinson  Hutchinson probes (0 = no Hessian trace)
     * @param seed        probe seed
     * @return the statistics of the warmed-up network
     */
    static ModelStatistics collect(
            Model net, LayerGraph graph, Path dataDir, int warmupSteps, int batch, int hutchinson, long seed) {
        if (warmupSteps < 0 || batch < 1) {
            throw new IllegalArgumentException(
                    "--warmup-steps must be >= 0 and --warmup-batch >= 1, got " + warmupSteps + ", " + batch);
        }
        int k = StatisticsCollector.DEFAULT_BATCHES;
        LabeledImages train = FashionMnist.load(dataDir, FashionMnist.Split.TRAIN);
        int rows = Math.min(train.count(), (warmupSteps + k) * batch);
        LocalShard shard = train.head(rows).toShard();
        int per = rows / batch;
        for (int s = 0; s < warmupSteps; s++) {
            int from = (s % per) * batch;
            DataSet ds = shard.batch(null, from, from + batch, LabeledImages.NUM_CLASSES);
            if (net instanceof MultiLayerNetwork m) {
                m.fit(ds);
            } else {
                ((ComputationGraph) net).fit(ds);
            }
        }
        List<DataSet> batches = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            int from = ((warmupSteps + i) % per) * batch;
            batches.add(shard.batch(null, from, from + batch, LabeledImages.NUM_CLASSES));
        }
        return new StatisticsCollector(hutchinson, StatisticsCollector.DEFAULT_EPSILON, seed)
                .collect(net, graph, batches);
    }
}
