package io.qsync.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qsync.planner.replay.ReplayResult;
import io.qsync.planner.replay.WorkerReplay;
import io.qsync.planner.report.ClusterPlan;
import io.qsync.runtime.EpochStats;
import io.qsync.runtime.StepPhases;
import io.qsync.runtime.TrainingHistory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * After a {@code spark.qsync.plan=auto} job: the plan's predicted iteration time set against the measured one (the
 * median step of the last epoch, the steady state), and for every rank its predicted compute and exposed exchange
 * against what it measured, saved as {@code measured.json} next to {@code plan.json}, so that every job checks its own
 * planner and a miss says which term it is in.
 *
 * @param predictedMillis the Replayer's iteration time for the plan the job trained with
 * @param measuredMillis  median step of the last epoch
 * @param errorPercent    (predicted − measured) / measured × 100
 * @param epoch           the epoch measured (1-based)
 * @param steps           its steps
 * @param ranks           each rank's terms (empty where the ranks did not report their phases)
 */
public record PlanCheck(
        double predictedMillis,
        double measuredMillis,
        double errorPercent,
        int epoch,
        int steps,
        List<RankCheck> ranks) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Copies the ranks. */
    public PlanCheck {
        ranks = List.copyOf(ranks);
    }

    /**
     * What the Replayer predicts for a worker of one device type in the plan.
     *
     * @param computeMillis  forward, backward, casts, per-step overhead and optimizer
     * @param exchangeMillis the all-reduce not hidden behind the backward pass plus the wait for the slowest peer: what
     *                       the worker sees as its exposed exchange
     */
    public record Predicted(double computeMillis, double exchangeMillis) {}

    /**
     * @param replayed the Replayer's prediction for the plan trained with
     * @return each worker type's predicted terms
     */
    static Map<String, Predicted> predictions(ReplayResult replayed) {
        Map<String, Predicted> out = new LinkedHashMap<>();
        for (WorkerReplay w : replayed.workers()) {
            out.put(w.name(), new Predicted(1e3 * w.busySeconds(), 1e3 * (w.allReduceSeconds() + w.waitSeconds())));
        }
        return Map.copyOf(out);
    }

    /**
     * One rank's terms, predicted against measured (its median step less its median exposed exchange is its compute).
     *
     * @param rank                    the rank
     * @param type                    its device type
     * @param predictedComputeMillis  the Replayer's compute for its type
     * @param measuredComputeMillis   its median step less its median exposed exchange
     * @param predictedExchangeMillis the Replayer's exposed exchange (wait included) for its type
     * @param measuredExchangeMillis  its median exposed exchange
     */
    public record RankCheck(
            int rank,
            String type,
            double predictedComputeMillis,
            double measuredComputeMillis,
            double predictedExchangeMillis,
            double measuredExchangeMillis) {}

    /**
     * @param plan      the plan the job trained with
     * @param predicted the Replayer's terms per device type for that plan (empty: no rank rows)
     * @param rankTypes each rank's device type, by rank
     * @param histories each rank's history, by rank
     * @return the comparison, or null without a measured epoch or a predicted time
     */
    static PlanCheck of(
            ClusterPlan plan,
            Map<String, Predicted> predicted,
            List<String> rankTypes,
            List<TrainingHistory> histories) {
        List<EpochStats> epochs = histories.get(0).epochs();
        if (epochs.isEmpty() || !(plan.clusterMillis() > 0)) {
            return null;
        }
        EpochStats last = epochs.get(epochs.size() - 1);
        double measured = last.medianStepMillis();
        if (!(measured > 0)) {
            return null;
        }
        List<RankCheck> ranks = new ArrayList<>();
        for (int r = 0; r < histories.size() && r < rankTypes.size(); r++) {
            List<EpochStats> own =
                    histories.get(r) == null ? List.of() : histories.get(r).epochs();
            Predicted p = predicted.get(rankTypes.get(r));
            EpochStats e = own.isEmpty() ? null : own.get(own.size() - 1);
            StepPhases ph = e == null ? null : e.phases();
            if (p != null && ph != null) {
                ranks.add(new RankCheck(
                        r,
                        rankTypes.get(r),
                        p.computeMillis(),
                        e.medianStepMillis() - ph.exchangeMillis(),
                        p.exchangeMillis(),
                        ph.exchangeMillis()));
            }
        }
        double predictedMillis = plan.clusterMillis();
        return new PlanCheck(
                predictedMillis,
                measured,
                100 * (predictedMillis - measured) / measured,
                last.epoch() + 1,
                last.steps(),
                ranks);
    }

    /** Writes {@code measured.json} into {@code dir}. */
    void save(Path dir) {
        try {
            Files.writeString(dir.resolve("measured.json"), JSON.writeValueAsString(this));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write measured.json into spark.qsync.plan.outDir=" + dir, e);
        }
    }

    /** One line per rank: its compute and exposed exchange, predicted against measured. */
    public String describeRanks() {
        StringBuilder b = new StringBuilder();
        for (RankCheck r : ranks) {
            b.append(String.format(
                    Locale.ROOT,
                    "%nrank %d (%s): compute %.2f ms predicted, %.2f measured; exposed exchange %.2f ms predicted, %.2f"
                            + " measured",
                    r.rank(),
                    r.type(),
                    r.predictedComputeMillis(),
                    r.measuredComputeMillis(),
                    r.predictedExchangeMillis(),
                    r.measuredExchangeMillis()));
        }
        return b.toString();
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
