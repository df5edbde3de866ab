package io.qsync.planner.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.planner.cost.CoRunScaling;
import io.qsync.planner.cost.DeviceCatalog;
import io.qsync.planner.cost.DeviceProfile;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The expected wait for the latest of several jittery workers: Clark's closed form against its known values and a
 * Monte Carlo estimate, and the Replayer pricing it only where workers are balanced and their profiles carry a jitter.
 */
class StepJitterTest {
    @Test
    void twoEqualWorkersWaitAboutHalfASigmaMore() {
        // E[max(X, Y)] for two iid N(m, s^2) is m + s / sqrt(pi)
        assertEquals(
                0.010 / Math.sqrt(Math.PI),
                StepJitter.excessSeconds(new double[] {0.1, 0.1}, new double[] {0.1, 0.1}),
                1e-9);
        assertEquals(0, StepJitter.excessSeconds(new double[] {0.1, 0.1}, new double[] {0, 0}));
        assertEquals(0, StepJitter.excessSeconds(new double[] {0.1}, new double[] {0.3}));
        assertTrue(
                StepJitter.excessSeconds(new double[] {0.1, 0.05}, new double[] {0.02, 0.02}) < 1e-9,
                "a worker slower by 25 sigma sets the step alone");
        assertEquals(0.5, StepJitter.cdf(0), 1e-12);
        assertEquals(0.975002104851780, StepJitter.cdf(1.96), 1e-9);
    }

    @Test
    void correlatedWorkersWaitLess() {
        double[] b = {0.1, 0.1};
        double[] j = {0.1, 0.1};
        assertEquals(0.010 * Math.sqrt(0.5 / Math.PI), StepJitter.excessSeconds(b, j, 0.5), 1e-9);
        assertEquals(0, StepJitter.excessSeconds(b, j, 1), 1e-12, "steps that move as one never wait");
        assertEquals(0.010 * Math.sqrt(2 / Math.PI), StepJitter.excessSeconds(b, j, -1), 1e-9);
    }

    @Test
    void threeWorkersAgreeWithMonteCarlo() {
        double[] busy = {0.0150, 0.0148, 0.0120};
        double[] jitter = {0.06, 0.08, 0.10};
        for (double rho : new double[] {0, 0.6}) {
            SplittableRandom rnd = new SplittableRandom(7);
            int n = 400_000;
            double sum = 0;
            for (int i = 0; i < n; i++) {
                double shared = gaussian(rnd); // a common part gives every pair correlation rho
                double max = 0;
                for (int k = 0; k < busy.length; k++) {
                    double z = Math.sqrt(rho) * shared + Math.sqrt(1 - rho) * gaussian(rnd);
                    max = Math.max(max, busy[k] + jitter[k] * busy[k] * z);
                }
                sum += max;
            }
            double mc = sum / n - busy[0];
            double clark = StepJitter.excessSeconds(busy, jitter, rho);
            assertTrue(clark > 2e-4, "balanced workers wait: " + clark);
            assertEquals(mc, clark, 0.04 * mc, "rho " + rho + ": Clark " + clark + " vs Monte Carlo " + mc);
        }
    }

    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }

    @Test
    void theReplayerAddsTheWaitOnlyWithAJitteryProfile() {
        Replayer r = new Replayer(TestGraphs.chain(3), new PredictorMemory());
        DeviceProfile t4 = DeviceCatalog.get("T4");
        DeviceProfile jittery = CoRunScaling.apply(t4, new CoRunScaling.Factors(1, 1, 1, 1, 0.08, 0), "co-run");
        DeviceProfile together = CoRunScaling.apply(t4, new CoRunScaling.Factors(1, 1, 1, 1, 0.08, 0.75), "co-run");
        Map<String, Precision> fp32 = Map.of();
        double steady = r.clusterSeconds(List.of(new WorkerSpec("t4", t4, fp32, 64, 2)));
        ReplayResult shaky = r.replay(List.of(new WorkerSpec("t4", jittery, fp32, 64, 2)));
        double busy = shaky.worker("t4").busySeconds();
        assertEquals(busy * 0.08 / Math.sqrt(Math.PI), shaky.clusterSeconds() - steady, 1e-9 * steady);
        assertEquals(
                shaky.clusterSeconds(), r.clusterSeconds(List.of(new WorkerSpec("t4", jittery, fp32, 64, 2))), 1e-15);
        assertTrue(shaky.criticalPath().contains("expected wait for the latest worker"), shaky.criticalPath());
        double correlated = r.clusterSeconds(List.of(new WorkerSpec("t4", together, fp32, 64, 2)));
        assertEquals(
                busy * 0.08 * Math.sqrt(0.25 / Math.PI),
                correlated - steady,
                1e-9 * steady,
                "steps that move together (rho 0.75) wait half as long");
        ReplayResult alone = r.replay(List.of(new WorkerSpec("t4", jittery, fp32, 64, 1)));
        assertTrue(!alone.criticalPath().contains("expected wait"), "one worker waits for no one");
    }
}
