package io.qsync.spark;

import io.qsync.lowprec.Precision;
import io.qsync.planner.cost.CoRunScaling;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import io.qsync.planner.replay.PredictorMemory;
import io.qsync.planner.replay.ReplayResult;
import io.qsync.planner.replay.Replayer;
import io.qsync.planner.replay.WorkerReplay;
import io.qsync.planner.replay.WorkerSpec;
import io.qsync.profile.Medians;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The probe stage's co-run (driver side): replays the co-run's configuration (every rank at its co-run precision, the
 * local batch) from the profiles, and sets the Replayer's compute per device type and exposed exchange of the last rank
 * beside what the ranks measured. Their ratios scale the profiles ({@link CoRunScaling}) before planning. Nothing
 * changes when the co-run did not run or failed on any rank, or a ratio is implausible; the summary says which.
 */
final class CoRunCalibration {
    private CoRunCalibration() {}

    /**
     * @param profiles the profiles to plan with, by device type
     * @param summary  what the co-run measured and did, for the report
     */
    record Outcome(Map<String, DeviceProfile> profiles, String summary) {}

    /**
     * @param probed   every rank's probe result
     * @param profiles resolved profiles by device type (measured with one rank alone)
     * @param graph    the network
     * @param local    rows per worker step
     * @return corrected profiles and a summary
     */
    static Outcome apply(
            List<ProbeStage.Probed> probed, Map<String, DeviceProfile> profiles, LayerGraph graph, int local) {
        if (probed.size() < 2 || probed.stream().allMatch(p -> p.coRun() == null)) {
            return new Outcome(profiles, "co-run: none (a single worker, or spark.qsync.plan.coRunSteps=0)");
        }
        for (ProbeStage.Probed p : probed) {
            if (p.coRun() == null || !p.coRun().ok()) {
                return new Outcome(
                        profiles,
                        "co-run: failed, profiles used as measured alone ("
                                + (p.coRun() == null
                                        ? "rank " + p.device().rank() + " did not run it"
                                        : p.coRun().error())
                                + ")");
            }
        }
        Map<String, List<ProbeStage.Probed>> byType = new LinkedHashMap<>();
        for (ProbeStage.Probed p : probed) {
            byType.computeIfAbsent(p.device().type(), t -> new ArrayList<>()).add(p);
        }
        List<WorkerSpec> specs = new ArrayList<>();
        byType.forEach((type, ranks) -> {
            Map<String, Precision> plan = new LinkedHashMap<>();
            for (LayerNode n : graph.switchableNodes()) {
                plan.put(n.id(), ranks.get(0).coRun().precision());
            }
            specs.add(new WorkerSpec(type, profiles.get(type), plan, local, ranks.size()));
        });
        ReplayResult predicted = new Replayer(graph, new PredictorMemory()).replay(specs);
        ProbeStage.Probed late = probed.stream()
                .max((a, b) -> Double.compare(a.coRun().computeMs(), b.coRun().computeMs()))
                .orElseThrow();
        WorkerReplay lateReplay = predicted.worker(late.device().type());
        double exchange = late.coRun().exchangeMs() / (1e3 * lateReplay.allReduceSeconds());
        StringBuilder summary = new StringBuilder(String.format(
                Locale.ROOT,
                "co-run of %d ranks (%s rows each): exposed exchange of the last rank (%d, %s) %.3f ms measured vs "
                        + "%.3f ms predicted (x%.3f)",
                probed.size(),
                local,
                late.device().rank(),
                late.device().type(),
                late.coRun().exchangeMs(),
                1e3 * lateReplay.allReduceSeconds(),
                exchange));
        Map<String, DeviceProfile> out = new LinkedHashMap<>(profiles);
        for (Map.Entry<String, List<ProbeStage.Probed>> e : byType.entrySet()) {
            WorkerReplay w = predicted.worker(e.getKey());
            double pred = w.forwardSeconds()
                    + w.backwardSeconds()
                    + w.castSeconds()
                    + w.overheadSeconds()
                    + w.optimizerSeconds();
            double meas = Medians.of(e.getValue().stream()
                    .mapToDouble(p -> p.coRun().computeMs())
                    .toArray());
            double compute = meas / (1e3 * pred);
            summary.append(String.format(
                    Locale.ROOT,
                    "; %s at %s: step less exchange %.3f ms measured vs %.3f ms predicted (x%.3f)",
                    e.getKey(),
                    e.getValue().get(0).coRun().precision(),
                    meas,
                    1e3 * pred,
                    compute));
            try {
                out.put(
                        e.getKey(),
                        CoRunScaling.apply(
                                profiles.get(e.getKey()),
                                compute,
                                exchange,
                                String.format(
                                        Locale.ROOT,
                                        "co-run in the job: compute x%.3f, exchange x%.3f",
                                        compute,
                                        exchange)));
            } catch (IllegalArgumentException ex) {
                return new Outcome(profiles, summary + "; not applied: " + ex.getMessage());
            }
        }
        return new Outcome(Map.copyOf(out), summary + "; applied to the profiles");
    }
}
