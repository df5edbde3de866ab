package io.qsync.spark;

import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.planner.report.ClusterPlan;
import io.qsync.planner.report.DevicePlan;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A cluster plan bound to the workers of one job: the precision plan and the batch weight of every rank, from the
 * plan's device types and the device type of each rank ({@code spark.qsync.plan.devices}). Checks, before anything is
 * launched, that the ranks' device types match the plan type for type and count, and that the job's global batch is
 * the plan's; every message names the setting to change.
 *
 * @param plansByRank  precision plan per rank
 * @param batchWeights examples per step per rank, as planned (the partitions are sized in these proportions)
 * @param typesByRank  device type of each rank the plan was bound to
 */
public record ClusterPlanBinding(
        List<PrecisionPlan> plansByRank, List<Integer> batchWeights, List<String> typesByRank) {
    /** Copies the lists. */
    public ClusterPlanBinding {
        plansByRank = List.copyOf(plansByRank);
        batchWeights = List.copyOf(batchWeights);
        typesByRank = List.copyOf(typesByRank);
    }

    /**
     * Reads {@code settings.planFile()} and binds it.
     *
     * @throws IllegalArgumentException naming the setting to change when the file is missing or does not fit
     */
    public static ClusterPlanBinding load(TrainSettings settings) {
        Path p = Path.of(settings.planFile());
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException(
                    "spark.qsync.plan.file=" + p + " does not exist (it is read on the driver); "
                            + "write it with `qsync plan --out DIR` (DIR/plan.json)");
        }
        try {
            return of(
                    ClusterPlan.fromJson(Files.readString(p)),
                    settings.planDevices(),
                    settings.numWorkers(),
                    settings.runtime().globalBatchSize());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read spark.qsync.plan.file=" + p, e);
        }
    }

    /**
     * @param plan        the cluster plan
     * @param devices     device type of each rank
     * @param numWorkers  workers of the job
     * @param globalBatch the job's global batch size
     * @return the binding
     * @throws IllegalArgumentException naming the setting to change if the ranks do not match the plan
     */
    public static ClusterPlanBinding of(ClusterPlan plan, List<String> devices, int numWorkers, int globalBatch) {
        if (devices.size() != numWorkers) {
            throw new IllegalArgumentException("spark.qsync.plan.devices names " + devices.size() + " device(s) "
                    + devices + " but spark.qsync.numWorkers=" + numWorkers
                    + "; give one device type per worker, by rank");
        }
        Map<String, Integer> count = new LinkedHashMap<>();
        for (String d : devices) {
            if (!plan.devices().containsKey(d)) {
                throw new IllegalArgumentException("spark.qsync.plan.devices names device type '" + d
                        + "', which the plan " + "does not have; its types are "
                        + plan.devices().keySet());
            }
            count.merge(d, 1, Integer::sum);
        }
        int planned = 0;
        for (Map.Entry<String, DevicePlan> e : plan.devices().entrySet()) {
            int have = count.getOrDefault(e.getKey(), 0);
            if (have != e.getValue().workers()) {
                throw new IllegalArgumentException(
                        "the plan has " + e.getValue().workers() + " worker(s) of type "
                                + e.getKey() + " but spark.qsync.plan.devices names " + have
                                + "; re-plan for this cluster (qsync plan "
                                + "--devices TYPE:COUNT,...) or fix spark.qsync.plan.devices / spark.qsync.numWorkers");
            }
            planned += e.getValue().workers() * e.getValue().batchPerWorker();
        }
        if (planned != globalBatch) {
            throw new IllegalArgumentException("spark.qsync.batchSize=" + globalBatch + " but the plan's workers take "
                    + planned + " examples per step; set spark.qsync.batchSize=" + planned
                    + " or re-plan with qsync plan "
                    + "--batch");
        }
        List<PrecisionPlan> plans = new ArrayList<>();
        List<Integer> weights = new ArrayList<>();
        for (String d : devices) {
            plans.add(new PrecisionPlan(plan.layerPrecisions(d)));
            weights.add(plan.devices().get(d).batchPerWorker());
        }
        return new ClusterPlanBinding(plans, weights, devices);
    }
}
