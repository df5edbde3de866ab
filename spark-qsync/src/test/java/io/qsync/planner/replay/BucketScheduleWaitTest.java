package io.qsync.planner.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qsync.planner.graph.LayerGraph;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A collective that one worker enters long after the others costs the link's measured waited time, one that every
 * worker enters at about the same time costs the plain ring time.
 */
class BucketScheduleWaitTest {
    private final LayerGraph g = TestGraphs.chain(3);

    private static BucketSchedule schedule(LayerGraph g, double... busy) {
        List<double[]> ends = new java.util.ArrayList<>();
        for (double b : busy) {
            ends.add(new double[g.nodes().size()]);
        }
        return BucketSchedule.of(g, 0, ends, busy, (bytes, waited) -> waited ? 0.006 : 0.004);
    }

    @Test
    void aWorkerArrivingLongAfterItsPeerPaysTheWaitedTime() {
        BucketSchedule s = schedule(g, 0.010, 0.030);
        assertEquals(0.030 + 0.006, s.end(), 1e-12);
    }

    @Test
    void workersArrivingTogetherPayThePlainRingTime() {
        BucketSchedule s = schedule(g, 0.0290, 0.0300); // 1 ms apart, less than the 4 ms collective
        assertEquals(0.030 + 0.004, s.end(), 1e-12);
    }

    @Test
    void theWaitedFactorDefaultsToOneForProfilesWithoutIt() {
        io.qsync.planner.cost.Interconnect old = new io.qsync.planner.cost.Interconnect("x", 1e9, 1e-5, 0);
        assertEquals(1.0, old.waitedFactor());
        assertEquals(old.ringAllReduceSeconds(1e6, 2), old.waitedRingAllReduceSeconds(1e6, 2), 0);
        io.qsync.planner.cost.Interconnect slow = new io.qsync.planner.cost.Interconnect("y", 1e9, 1e-5, 1.5);
        assertEquals(1.5 * slow.ringAllReduceSeconds(1e6, 2), slow.waitedRingAllReduceSeconds(1e6, 2), 1e-15);
    }
}
