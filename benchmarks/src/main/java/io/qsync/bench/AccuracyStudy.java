package io.qsync.bench;

import io.qsync.data.FashionMnist;
import io.qsync.data.LabeledImages;
import io.qsync.lowprec.Precision;
import io.qsync.planner.alloc.Allocation;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.runtime.LocalShard;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * QSync's headline claim measured on our stack: at the same predicted iteration time, does the indicator-guided
 * per-layer plan of the inference device lose less test accuracy than uniform low precision? Setting and plans:
 * {@link StudyPlans} (V100 FP32 + T4, ResNet-style CNN). Arms = worker 1's plan: all FP32; uniform INT8 (QSync's
 * baseline); uniform FP16; the planner's plan from GVAR, from HESS, from WVAR; a random plan with the GVAR plan's
 * predicted T4 time. Every arm trains the same seeds (same initial weights and data order per seed) on 2 workers in
 * one synchronous ring ({@link TwoWorkerTraining}); runs go seed by seed through all arms, and the report is rewritten
 * after every run so that a stopped study still leaves its table ({@link AccuracyReport}). Precision is emulated
 * exactly on the CPU (nd4j-lowprec, the same numerics as its CUDA kernels).
 *
 * <p>Arguments: {@code out.md trainRows testRows epochs seeds rows0 rows1 warmupSteps [resume.md]}; e.g.
 * {@code benchmarks/results/accuracy.md 8000 5000 5 5 64 32 150}. With {@code resume.md} (an earlier report of the
 * same arguments) the plans and the finished runs are read from it and only the missing runs are trained.
 */
public final class AccuracyStudy {
    private AccuracyStudy() {}

    /**
     * @param args see the class comment
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 8) {
            throw new IllegalArgumentException(
                    "usage: AccuracyStudy out.md trainRows testRows epochs seeds rows0 rows1 " + "warmupSteps");
        }
        Path out = Path.of(args[0]);
        int trainRows = Integer.parseInt(args[1]);
        int testRows = Integer.parseInt(args[2]);
        int warmup = Integer.parseInt(args[7]);
        Instant start = Instant.now();
        String machineAtStart = BenchEnv.machine();
        LabeledImages trainImages = FashionMnist.load(FashionMnist.Split.TRAIN).head(trainRows);
        LocalShard train = trainImages.toShard();
        LocalShard test =
                FashionMnist.load(FashionMnist.Split.TEST).head(testRows).toShard();

        Map<String, Map<String, Precision>> arms = new LinkedHashMap<>();
        Map<String, String> why = new LinkedHashMap<>();
        Map<String, List<Double>> done = new LinkedHashMap<>();
        if (args.length > 8) {
            StudyResume.read(Path.of(args[8]), arms, why, done);
            StudyPlans plans = new StudyPlans(train, -1, 42);
            run(out, args, start, machineAtStart, train, test, plans, arms, why, done);
            return;
        }
        long t0 = System.nanoTime();
        StudyPlans plans = new StudyPlans(train, warmup, 42);
        System.out.printf(Locale.ROOT, "warm-up + statistics: %.0f s%n", (System.nanoTime() - t0) / 1e9);
        arms.put("FP32", plans.uniform(Precision.FP32));
        arms.put("uniform INT8", plans.uniform(Precision.INT8));
        arms.put("uniform FP16", plans.uniform(Precision.FP16));
        for (String ind : List.of("gvar", "hess", "wvar")) {
            IndicatorTable t = plans.tables().get(ind);
            Allocation a = plans.allocate(t);
            arms.put(
                    "plan " + ind.toUpperCase(Locale.ROOT),
                    a.worker(StudyPlans.INFER).plan());
            why.put(
                    "plan " + ind.toUpperCase(Locale.ROOT),
                    String.format(
                            Locale.ROOT,
                            "budget %.3f ms, cluster %.3f ms, %d raises accepted, %d rejected",
                            a.budgetSeconds() * 1e3,
                            a.clusterSeconds() * 1e3,
                            a.accepted(),
                            a.rejected()));
        }
        Map<String, Precision> gvar = arms.get("plan GVAR");
        arms.put("random (GVAR's time)", plans.randomPlanLike(plans.inferenceSeconds(gvar), gvar, 7, 20000));
        run(out, args, start, machineAtStart, train, test, plans, arms, why, done);
    }

    private static void run(
            Path out,
            String[] args,
            Instant start,
            String machineAtStart,
            LocalShard train,
            LocalShard test,
            StudyPlans plans,
            Map<String, Map<String, Precision>> arms,
            Map<String, String> why,
            Map<String, List<Double>> done)
            throws Exception {
        int trainRows = Integer.parseInt(args[1]);
        int testRows = Integer.parseInt(args[2]);
        int epochs = Integer.parseInt(args[3]);
        int seeds = Integer.parseInt(args[4]);
        int rows0 = Integer.parseInt(args[5]);
        int rows1 = Integer.parseInt(args[6]);
        int warmup = Integer.parseInt(args[7]);
        AccuracyReport report = new AccuracyReport(
                out,
                plans,
                arms,
                why,
                String.format(
                        Locale.ROOT,
                        "%d training images (first %d of the training split), %d test images (first %d of the test split), "
                                + "%d epochs, %d seeds, %d + %d rows per step (worker 0 FP32 | worker 1 the arm's plan), Adam lr 1e-3; "
                                + "indicators after %d FP32 warm-up steps of 64",
                        trainRows,
                        trainRows,
                        testRows,
                        testRows,
                        epochs,
                        seeds,
                        rows0,
                        rows1,
                        warmup),
                machineAtStart,
                start,
                String.join(" ", args));
        done.forEach((arm, accs) -> accs.forEach(a -> report.add(arm, new TwoWorkerTraining.Result(a, Double.NaN, 0))));
        report.write();
        TwoWorkerTraining trainer = new TwoWorkerTraining(train, test, rows0, rows1, epochs);
        for (int s = 0; s < seeds; s++) {
            for (Map.Entry<String, Map<String, Precision>> arm : arms.entrySet()) {
                if (s < done.getOrDefault(arm.getKey(), List.of()).size()) {
                    continue;
                }
                TwoWorkerTraining.Result r = trainer.run(1000 + s, arm.getValue());
                report.add(arm.getKey(), r);
                report.write();
                System.out.printf(
                        Locale.ROOT,
                        "seed %d %-22s acc %.4f loss %.4f %.0f s%n",
                        s,
                        arm.getKey(),
                        r.testAccuracy(),
                        r.lastEpochLoss(),
                        r.seconds());
            }
        }
        System.out.println("wrote " + out);
    }
}
