package io.qsync.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qsync.planner.report.ClusterPlan;
import io.qsync.runtime.EpochStats;
import io.qsync.runtime.TrainingHistory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * After a {@code spark.qsync.plan=auto} job: the plan's predicted iteration time set against the measured one (the
 * median step of the last epoch, the steady state), saved as {@code measured.json} next to {@code plan.json}, so that
 * every job checks its own planner.
 *
 * @param predictedMillis the Replayer's iteration time for the plan the job trained with
 * @param measuredMillis  median step of the last epoch
 * @param errorPercent    (predicted − measured) / measured × 100
 * @param epoch           the epoch measured (1-based)
 * @param steps           its steps
 */
public record PlanCheck(double predictedMillis, double measuredMillis, double errorPercent, int epoch, int steps) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * @param plan    the plan the job trained with
     * @param history the job's history (rank 0)
     * @return the comparison, or null without a measured epoch or a predicted time
     */
    static PlanCheck of(ClusterPlan plan, TrainingHistory history) {
        List<EpochStats> epochs = history.epochs();
        if (epochs.isEmpty() || !(plan.clusterMillis() > 0)) {
            return null;
        }
        EpochStats last = epochs.get(epochs.size() - 1);
        double measured = last.medianStepMillis();
        if (!(measured > 0)) {
            return null;
        }
        double predicted = plan.clusterMillis();
        return new PlanCheck(
                predicted, measured, 100 * (predicted - measured) / measured, last.epoch() + 1, last.steps());
    }

    /** Writes {@code measured.json} into {@code dir}. */
    void save(Path dir) {
        try {
            Files.writeString(dir.resolve("measured.json"), JSON.writeValueAsString(this));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write measured.json into spark.qsync.plan.outDir=" + dir, e);
        }
    }

    /** One line for logs and the CLI. */
    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "qsync plan=auto: predicted iteration %.3f ms, measured %.3f ms (median step of epoch %d, %d steps):"
                        + " prediction %+.1f %%",
                predictedMillis,
                measuredMillis,
                epoch,
                steps,
                errorPercent);
    }
}
