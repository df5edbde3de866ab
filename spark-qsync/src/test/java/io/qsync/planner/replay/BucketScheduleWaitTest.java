package io.qsync.planner.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qsync.planner.cost.Interconnect;
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
        return BucketSchedule.of(g, 0, ends, busy, (bytes, lag) -> lag > 0.004 ? 0.006 : 0.004);
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
        Interconnect old = new Interconnect("x", 1e9, 1e-5, 0);
        assertEquals(1.0, old.waitedFactor());
        assertEquals(1.0, old.factorAfterLag(0.005, 0.004), 0);
        Interconnect slow = new Interconnect("y", 1e9, 1e-5, 1.5);
        // without a measured curve: the long-wait factor once the lag exceeds the collective, else 1
        assertEquals(1.5, slow.factorAfterLag(0.005, 0.004), 0);
        assertEquals(1.0, slow.factorAfterLag(0.003, 0.004), 0);
    }

    private static final Interconnect CURVED = new Interconnect(
            "loopback",
            1e9,
            1e-5,
            1.6,
            List.of(new Interconnect.WaitPoint(0.020, 1.6), new Interconnect.WaitPoint(0.002, 1.3)));

    @Test
    void aMeasuredWaitCurveIsInterpolatedFromOneAtNoLagAndHeldBeyondItsLastPoint() {
        assertEquals(0.002, CURVED.waitCurve().get(0).lagSeconds(), 0, "points are kept sorted by lag");
        assertEquals(1.0, CURVED.factorAfterLag(0, 0.004), 0);
        assertEquals(1.15, CURVED.factorAfterLag(0.001, 0.004), 1e-12);
        assertEquals(1.3, CURVED.factorAfterLag(0.002, 0.004), 1e-12);
        assertEquals(1.45, CURVED.factorAfterLag(0.011, 0.004), 1e-12);
        assertEquals(1.6, CURVED.factorAfterLag(0.5, 0.004), 1e-12);
        assertEquals("x1.30/1.60 after 2.00/20.0 ms waits", CURVED.describeWaits());
    }

    @Test
    void theReplayerChargesTheLateRankTheCurvesFactorAtItsPredictedLag() {
        // two workers 1 ms apart: the lagged rank pays x1.15 of the ring time, not the plain time as before the curve
        BucketSchedule s = BucketSchedule.of(
                g,
                0,
                List.of(new double[g.nodes().size()], new double[g.nodes().size()]),
                new double[] {0.029, 0.030},
                (bytes, lag) -> 0.004 * CURVED.factorAfterLag(lag, 0.004));
        assertEquals(0.030 + 0.004 * 1.15, s.end(), 1e-12);
    }

    @Test
    void aWaitCurveSurvivesTheProfilesJsonAndOldProfilesReadWithoutOne() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        Interconnect back = json.readValue(json.writeValueAsString(CURVED), Interconnect.class);
        assertEquals(CURVED, back);
        Interconnect old = json.readValue(
                "{\"name\":\"x\",\"bandwidthBytesPerSec\":1e9,\"latencySeconds\":1e-5,\"waitedFactor\":1.4}",
                Interconnect.class);
        assertEquals(List.of(), old.waitCurve());
        assertEquals(1.4, old.factorAfterLag(0.1, 0.004), 0);
    }
}
