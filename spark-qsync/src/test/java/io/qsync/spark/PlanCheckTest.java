package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.planner.report.ClusterPlan;
import io.qsync.runtime.EpochStats;
import io.qsync.runtime.StepPhases;
import io.qsync.runtime.TrainingHistory;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The job's check of its own planner: the iteration, and each rank's compute and exposed exchange. */
class PlanCheckTest {
    private static final ClusterPlan PLAN = new ClusterPlan("m", Map.of(), 20, 18.0, 1, "NONE", "");

    private static TrainingHistory history(double medianStep, StepPhases phases) {
        return new TrainingHistory(
                2,
                List.of(new EpochStats(0, 118, 60000, 0.8, 2.3, 0.86, medianStep, phases)),
                new float[0],
                new float[0]);
    }

    @Test
    void eachRankSetsItsComputeAndExchangeBesideThePrediction() {
        PlanCheck c = PlanCheck.of(
                PLAN,
                Map.of("strong", new PlanCheck.Predicted(14.4, 3.9), "weak", new PlanCheck.Predicted(12.7, 5.6)),
                List.of("strong", "weak"),
                List.of(
                        history(18.26, new StepPhases(0.21, 13.86, 3.58, 0.44)),
                        history(18.22, new StepPhases(0.25, 13.10, 4.18, 0.52))));
        assertEquals(18.26, c.measuredMillis(), 0);
        assertEquals(100 * (18.0 - 18.26) / 18.26, c.errorPercent(), 1e-12);
        assertEquals(2, c.ranks().size());
        PlanCheck.RankCheck weak = c.ranks().get(1);
        assertEquals("weak", weak.type());
        assertEquals(18.22 - 4.18, weak.measuredComputeMillis(), 1e-12, "step less exposed exchange");
        assertEquals(5.6, weak.predictedExchangeMillis(), 0);
        assertTrue(
                c.describeRanks().contains("rank 1 (weak): compute 12.70 ms predicted, 14.04 measured"),
                c.describeRanks());
    }

    @Test
    void ranksWithoutPhasesOrPredictionsAreLeftOutAndNoEpochMeansNoCheck() {
        PlanCheck c = PlanCheck.of(
                PLAN,
                Map.of("strong", new PlanCheck.Predicted(14.4, 3.9)),
                List.of("strong", "weak"),
                Arrays.asList(history(18.26, new StepPhases(0.2, 13.9, 3.6, 0.4)), null));
        assertEquals(1, c.ranks().size());
        assertEquals(0, c.ranks().get(0).rank());
        assertEquals(
                0,
                PlanCheck.of(PLAN, Map.of(), List.of("strong"), List.of(history(18, null)))
                        .ranks()
                        .size());
        assertNull(PlanCheck.of(
                PLAN,
                Map.of(),
                List.of("strong"),
                List.of(new TrainingHistory(1, List.of(), new float[0], new float[0]))));
    }
}
