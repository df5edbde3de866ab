package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qsync.spark.devices.WorkerDevice;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A training task on another device type than the probe stage found for its rank takes the precisions planned for
 * the type it is on (when the plan has that type), else its rank's.
 */
class PlanPlacementTest {
    private static WorkerDevice on(int rank, String type) {
        return new WorkerDevice(rank, "h", WorkerDevice.CPU, type, "", -1, "cpu", 0, 1L << 30, "", 1, "avx2", "");
    }

    @Test
    void precisionsFollowTheDeviceTheTaskRunsOn() {
        List<String> planned = List.of("h100", "t4", "t4");
        assertEquals(1, BarrierTrainTask.planRank(on(1, "t4"), planned), "as planned");
        assertEquals(1, BarrierTrainTask.planRank(on(0, "t4"), planned), "rank 0 landed on a T4: T4's precisions");
        assertEquals(0, BarrierTrainTask.planRank(on(2, "h100"), planned), "rank 2 landed on the H100");
        assertEquals(2, BarrierTrainTask.planRank(on(2, "a10"), planned), "an unplanned type keeps its rank's plan");
        assertEquals(0, BarrierTrainTask.planRank(on(0, "a10"), List.of()), "no plan: its rank");
    }
}
