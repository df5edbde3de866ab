package io.qsync.cli;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.data.FashionMnist;
import io.qsync.data.LabeledImages;
import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.indicator.GvarIndicator;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.stats.ModelStatistics;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

class TrainedStatisticsTest {
    @Test
    void theIndicatorComesFromTheWarmedUpNetworkNotItsInitialisation() throws Exception {
        MultiLayerNetwork fresh = (MultiLayerNetwork) CliModels.build("fashion-cnn", null, 3);
        MultiLayerNetwork warmed = (MultiLayerNetwork) CliModels.build("fashion-cnn", null, 3);
        LayerGraph g = CliModels.graph("fashion-cnn", fresh);
        DataSet held = FashionMnist.load(FashionMnist.Split.TEST)
                .head(256)
                .toShard()
                .batch(null, 0, 256, LabeledImages.NUM_CLASSES);
        double before = warmed.score(held);
        ModelStatistics untrained = TrainedStatistics.collect(fresh, g, FashionMnist.DEFAULT_DIR, 0, 32, 0, 1);
        ModelStatistics trained = TrainedStatistics.collect(warmed, g, FashionMnist.DEFAULT_DIR, 40, 32, 0, 1);
        double after = warmed.score(held);
        assertTrue(after < 0.8 * before, "the warm-up trains the network: held-out loss " + before + " -> " + after);
        List<Precision> menu = List.of(Precision.INT8, Precision.FP16, Precision.FP32);
        IndicatorTable t0 = new GvarIndicator().compute(untrained, g, menu);
        IndicatorTable t1 = new GvarIndicator().compute(trained, g, menu);
        assertNotEquals(t0.omega(), t1.omega(), "the indicator reflects the trained state");
        assertThrows(
                IllegalArgumentException.class,
                () -> TrainedStatistics.collect(fresh, g, FashionMnist.DEFAULT_DIR, -1, 32, 0, 1));
    }
}
