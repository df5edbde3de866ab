package io.qsync.spark;

import java.io.Serializable;
import java.util.Map;

/**
 * How a job plans for itself ({@code spark.qsync.plan=auto}).
 *
 * @param auto         plan inside the job ({@code spark.qsync.plan})
 * @param profilesDir  directory of measured device profiles, one JSON per device type ({@code
 *                     spark.qsync.plan.profilesDir}); "" for none
 * @param outDir       where plan.json, the report and devices.json go ({@code spark.qsync.plan.outDir}); "" = a
 *                     fresh temporary directory (the CLI puts them next to the model)
 * @param profileSteps measured steps per calibration plan when a device type is profiled inside the job
 * @param warmupSteps  FP32 steps of the actual model on the driver before the indicator statistics
 * @param indicator    sensitivity indicator: gvar, wvar or hess
 * @param rebalance    follow the planner's advice to rebalance batches or leave a device out
 * @param coRunSteps   measured steps of the probe stage's co-run of all ranks, whose compute and exchange correct the
 *                     profiles ({@code spark.qsync.plan.coRunSteps}); 0 = none
 */
public record AutoPlanSettings(
        boolean auto,
        String profilesDir,
        String outDir,
        int profileSteps,
        int warmupSteps,
        String indicator,
        boolean rebalance,
        int coRunSteps)
        implements Serializable {

    /** Normalises the paths. */
    public AutoPlanSettings {
        profilesDir = profilesDir == null ? "" : profilesDir.trim();
        outDir = outDir == null ? "" : outDir.trim();
    }

    /** No planning inside the job. */
    public static AutoPlanSettings off() {
        return new AutoPlanSettings(false, "", "", 11, 10, "gvar", true, 10);
    }

    /** Reads the {@code spark.qsync.plan*} settings. */
    static AutoPlanSettings from(Map<String, String> s) {
        return new AutoPlanSettings(
                QSyncConf.PLAN.read(s).equals("auto"),
                QSyncConf.PLAN_PROFILES_DIR.read(s),
                QSyncConf.PLAN_OUT_DIR.read(s),
                QSyncConf.PLAN_PROFILE_STEPS.read(s),
                QSyncConf.PLAN_WARMUP_STEPS.read(s),
                QSyncConf.PLAN_INDICATOR.read(s),
                QSyncConf.PLAN_REBALANCE.read(s),
                QSyncConf.PLAN_CO_RUN_STEPS.read(s));
    }

    /** @return a copy writing to {@code dir} */
    public AutoPlanSettings withOutDir(String dir) {
        return new AutoPlanSettings(
                auto, profilesDir, dir, profileSteps, warmupSteps, indicator, rebalance, coRunSteps);
    }
}
