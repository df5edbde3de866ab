package io.qsync.planner.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qsync.backend.cpu.LayerTimeRecorder;
import io.qsync.lowprec.Precision;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.replay.PredictorMemory;
import io.qsync.planner.replay.Replayer;
import io.qsync.planner.replay.TestGraphs;
import io.qsync.planner.replay.WorkerSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StepCalibrationTest {
    private static final List<Precision> MENU = List.of(Precision.FP32, Precision.FP16, Precision.INT8);

    @Test
    void fitsRemainderAndScaleAndTheReplayerReproducesTheModel() {
        LayerGraph g = TestGraphs.chain(3);
        List<String> sw = g.switchableIds();
        Map<String, Integer> index = indexOf(sw);
        // synthetic costs: layer i at precision p costs (i + 1) * (ordinal + 1) ms forward, twice that backward;
        // each run's recorder sees three samples per layer, the middle one the true cost
        StepCalibration cal = new StepCalibration(g, index, 32);
        double r = 0.040;
        for (int k = 0; k < MENU.size(); k++) {
            Map<String, Precision> a = rot(sw, MENU, k);
            Map<String, Precision> b = rot(sw, MENU, k + 1);
            LayerTimeRecorder rec = new LayerTimeRecorder(0);
            double s = 0;
            for (Map<String, Precision> plan : List.of(a, b)) {
                double sp = 0;
                for (int i = 0; i < sw.size(); i++) {
                    Precision p = plan.get(sw.get(i));
                    long f = (long) ((i + 1) * (p.ordinal() + 1) * 1e6);
                    for (long noise : new long[] {-1000, 0, 5_000_000}) {
                        rec.record(i, p, false, f + noise, f + noise);
                        rec.record(i, p, true, 2 * f + noise, 2 * f + noise);
                    }
                    sp += 3 * f / 1e9;
                }
                s = Math.max(s, sp);
            }
            cal.addRun(List.of(a, b), r + s, rec);
            // the same run disturbed by another process (threads got half the CPU, everything twice as slow) is left
            // out
            LayerTimeRecorder slow = new LayerTimeRecorder(0);
            for (int i = 0; i < sw.size(); i++) {
                for (Map<String, Precision> plan : List.of(a, b)) {
                    long f = (long) ((i + 1) * (plan.get(sw.get(i)).ordinal() + 1) * 1e6);
                    slow.record(i, plan.get(sw.get(i)), false, 2 * f, f);
                    slow.record(i, plan.get(sw.get(i)), true, 4 * f, 2 * f);
                }
            }
            cal.addRun(List.of(a, b), 2 * (r + s), slow);
            assertEquals(false, cal.used(2 * k + 1));
        }
        StepCalibration.Fit fit = cal.fit();
        assertEquals(1, fit.kappa(), 1e-12);
        assertEquals(1, cal.fit(true).kappa(), 1e-6);
        assertEquals(r, fit.remainderSeconds(), 1e-9);
        assertEquals(0, fit.rmsRelativeError(), 1e-9);
        Map<String, Precision> u = rot(sw, List.of(Precision.INT8), 0);
        Map<String, Precision> f32 = rot(sw, List.of(Precision.FP32), 0);
        double expect = r + cal.switchableSeconds(u);
        assertEquals(r + sw.size() * (sw.size() + 1) / 2.0 * 3 * (Precision.INT8.ordinal() + 1) * 1e-3, expect, 1e-9);
        assertEquals(expect, cal.predictSeconds(fit, List.of(u, f32)), 1e-12);
        Interconnect link = new Interconnect("loop", 1e9, 1e-5);
        DeviceProfile prof = cal.toProfile("cpu", "test", fit, MENU, 1L << 34, link, 2);
        double replayed = new Replayer(g, new PredictorMemory())
                .replay(List.of(new WorkerSpec("a", prof, u, 32, 1), new WorkerSpec("b", prof, f32, 32, 1)))
                .clusterSeconds();
        assertEquals(expect, replayed, 1e-9);
        assertThrows(IllegalStateException.class, () -> cal.layerSeconds(sw.get(0), Precision.BF16, false));
    }

    @Test
    void uniformRunsBesideTheRotationsSeparateAScaleFromTheRemainder() {
        // a clock that changes how steps run: every layer reads 1.25x its cost inside the real (replayed) step
        LayerGraph g = TestGraphs.chain(4);
        List<String> sw = g.switchableIds();
        Map<String, Integer> index = indexOf(sw);
        List<Map<String, Precision>> plans = new java.util.ArrayList<>();
        for (int k = 0; k < MENU.size(); k++) {
            plans.add(rot(sw, MENU, k)); // the rotations alone have equal layer sums here: kappa would not separate
            plans.add(rot(sw, List.of(MENU.get(k)), 0));
        }
        StepCalibration cal = new StepCalibration(g, index, 32);
        double r = 0.002;
        double[] cost = {4e-3, 2e-3, 1e-3}; // FP32, FP16, INT8 per layer and direction
        for (Map<String, Precision> plan : plans) {
            LayerTimeRecorder rec = new LayerTimeRecorder(0);
            double s = 0;
            for (int i = 0; i < sw.size(); i++) {
                Precision p = plan.get(sw.get(i));
                double c = cost[MENU.indexOf(p)] * (i + 1);
                long clocked = (long) (1.25 * c * 1e9);
                rec.record(i, p, false, clocked, clocked);
                rec.record(i, p, true, clocked, clocked);
                s += 2 * c;
            }
            cal.addRun(List.of(plan), r + s, rec);
        }
        StepCalibration.Fit fit = cal.fit(true);
        assertEquals(0.8, fit.kappa(), 1e-9);
        assertEquals(r, fit.remainderSeconds(), 1e-9);
        Map<String, Precision> fp32 = rot(sw, List.of(Precision.FP32), 0);
        double fp32Step = r + 2 * 4e-3 * sw.size() * (sw.size() + 1) / 2.0;
        assertEquals(fp32Step, cal.predictSeconds(fit, List.of(fp32)), 1e-9);
        // with kappa fixed at 1 the remainder absorbs the mean inflation: uniform FP32 is over-predicted
        assertEquals(true, cal.predictSeconds(cal.fit(), List.of(fp32)) > 1.03 * fp32Step);
    }

    private static Map<String, Integer> indexOf(List<String> switchable) {
        Map<String, Integer> index = new LinkedHashMap<>();
        for (int i = 0; i < switchable.size(); i++) {
            index.put(switchable.get(i), i);
        }
        return index;
    }

    private static Map<String, Precision> rot(List<String> ids, List<Precision> menu, int k) {
        Map<String, Precision> m = new LinkedHashMap<>();
        for (int j = 0; j < ids.size(); j++) {
            m.put(ids.get(j), menu.get((j + k) % menu.size()));
        }
        return m;
    }
}
