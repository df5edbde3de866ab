package io.qsync.planner.replay;

import io.qsync.lowprec.Precision;
import io.qsync.planner.cost.DeviceProfile;
import java.util.Map;
import java.util.TreeMap;

/**
 * One device type in the cluster with its plan: {@code count} identical workers, each computing {@code batch}
 * examples per step.
 *
 * @param name   label (e.g. {@code T4})
 * @param device cost profile
 * @param plan   switchable layer id → precision (absent = FP32)
 * @param batch  examples per worker per step
 * @param count  workers of this type
 */
public record WorkerSpec(String name, DeviceProfile device, Map<String, Precision> plan, int batch, int count) {
    /** Copies the plan and checks sizes. */
    public WorkerSpec {
        if (count < 0 || batch < 0) {
            throw new IllegalArgumentException(
                    "Worker " + name + " needs count >= 0 and batch >= 0, got " + count + ", " + batch);
        }
        plan = java.util.Collections.unmodifiableMap(new TreeMap<>(plan));
    }

    /**
     * @param p new plan
     * @return a copy with another plan
     */
    public WorkerSpec withPlan(Map<String, Precision> p) {
        return new WorkerSpec(name, device, p, batch, count);
    }

    /**
     * @param b new batch
     * @return a copy with another batch per worker
     */
    public WorkerSpec withBatch(int b) {
        return new WorkerSpec(name, device, plan, b, count);
    }
}
