package io.qsync.bench;

import io.qsync.data.FashionMnist;
import io.qsync.data.LabeledImages;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.PrecisionPlan;
import io.qsync.models.DemoModels;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import io.qsync.planner.indicator.Indicator;
import io.qsync.planner.indicator.IndicatorTable;
import io.qsync.planner.indicator.Indicators;
import io.qsync.planner.stats.ModelStatistics;
import io.qsync.profile.StatisticsCollector;
import io.qsync.runtime.LocalShard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Indicator sensitivity study: how well do GVAR, WVAR and HESS rank the real effect of putting one switchable
 * layer of {@link DemoModels#sensitivityCnn} (six switchable layers) or {@link DemoModels#resnetCnn} (eleven) in INT8
 * (then FP8_E4M3)?
 *
 * <p>Protocol: pre-train in FP32 for {@code pretrain} steps (checkpoint: parameters, Adam state, iteration
 * count); collect statistics on the checkpoint (K = 10 batches, 32 Hutchinson probes) and compute the
 * indicators; then for each seed, continue from the checkpoint for {@code steps} steps with the seed's batch
 * order (the same mini-batches for every run of that seed), once all-FP32 and once per (layer, precision) with
 * only that layer low precision. Real effect, two measures: (a) eval gap = FP32-inference loss on held-out test
 * images minus the FP32 run's; (b) train gap = the training loss averaged over the last {@code tail} steps minus
 * the FP32 run's (same batches). Both are averaged over seeds; Spearman's ρ between each indicator and the mean
 * effect is reported per precision (n = 6) and pooled (n = 12), plus the per-seed ρ range.
 *
 * <p>Usage: {@code SensitivityStudy [out] [pretrain=200] [steps=60] [seeds=3] [tail=20] [precisions=INT8,FP8_E4M3]
 * [lr=1e-3] [model=sensitivity-cnn|resnet-cnn] [batch=64] [probes=32] [train=12000] [eval=1000]}; {@code lr} is the
 * Adam learning rate of the runs after the checkpoint (pre-training uses 1e-3); a smaller one keeps the runs of a
 * seed closer to each other, so less of the gap is divergence of the trajectories.
 */
public final class SensitivityStudy {
    static int BATCH = 64;

    private SensitivityStudy() {}

    /** Runs the study; see the class comment for arguments. */
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "benchmarks/results/sensitivity.md");
        int pretrain = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 60;
        int seeds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        int tail = args.length > 4 ? Integer.parseInt(args[4]) : 20;
        List<Precision> precisions = new ArrayList<>();
        for (String p : (args.length > 5 ? args[5] : "INT8,FP8_E4M3").split(",")) {
            precisions.add(Precision.valueOf(p));
        }
        double lr = args.length > 6 ? Double.parseDouble(args[6]) : 1e-3;
        String modelName = args.length > 7 ? args[7] : "sensitivity-cnn";
        BATCH = args.length > 8 ? Integer.parseInt(args[8]) : 64;
        int probes = args.length > 9 ? Integer.parseInt(args[9]) : 32;
        int trainRows = args.length > 10 ? Integer.parseInt(args[10]) : 12000;
        int evalRows = args.length > 11 ? Integer.parseInt(args[11]) : 1000;
        long t0 = System.nanoTime();
        LocalShard train =
                FashionMnist.load(FashionMnist.Split.TRAIN).head(trainRows).toShard();
        LabeledImages testImgs = FashionMnist.load(FashionMnist.Split.TEST).head(evalRows);
        DataSet eval = testImgs.toShard().batch(null, 0, evalRows, 10);

        StudyNet net = StudyNet.of(modelName);
        int[] order = permutation(trainRows, 1000);
        for (int s = 0; s < pretrain; s++) {
            net.fit(batch(train, order, s));
        }
        INDArray ckptParams = net.model().params().dup();
        INDArray ckptUpdater = net.updaterState().dup();
        int ckptIter = net.iteration();
        double ckptEval = net.score(eval);
        net.setLearningRate(lr);
        log("pretrained %d steps, eval loss %.4f", pretrain, ckptEval);

        LayerGraph graph = net.graph();
        List<DataSet> statBatches = new ArrayList<>();
        int[] statOrder = permutation(trainRows, 2000);
        for (int k = 0; k < StatisticsCollector.DEFAULT_BATCHES; k++) {
            statBatches.add(batch(train, statOrder, k));
        }
        ModelStatistics stats = new StatisticsCollector(probes, 1e-3, 7).collect(net.model(), graph, statBatches);
        Map<String, IndicatorTable> tables = new LinkedHashMap<>();
        for (Indicator ind : Indicators.all()) {
            tables.put(ind.name(), ind.compute(stats, graph, precisions));
        }
        List<String> layers =
                graph.switchableNodes().stream().map(LayerNode::id).toList();
        log("stats + indicators done");

        SensitivityReport rep = new SensitivityReport(graph, layers, precisions, tables, seeds, modelName, probes);
        for (int seed = 0; seed < seeds; seed++) {
            int[] o = permutation(trainRows, 17 + seed);
            double[] fp32 =
                    run(net, ckptParams, ckptUpdater, ckptIter, PrecisionPlan.empty(), train, o, steps, tail, eval);
            rep.fp32(seed, fp32);
            for (Precision p : precisions) {
                for (String id : layers) {
                    double[] r = run(
                            net,
                            ckptParams,
                            ckptUpdater,
                            ckptIter,
                            PrecisionPlan.empty().with(id, p),
                            train,
                            o,
                            steps,
                            tail,
                            eval);
                    rep.gap(id, p, seed, r[0] - fp32[0], r[1] - fp32[1]);
                    log("seed %d %s %s eval gap %+.5f train gap %+.5f", seed, id, p, r[0] - fp32[0], r[1] - fp32[1]);
                }
            }
            rep.seedsDone(seed + 1);
            Files.writeString(
                    out,
                    rep.markdown(header(args, t0, pretrain, ckptEval, steps, lr, seeds, tail, trainRows, evalRows)));
        }
        log("wrote %s in %.0f s", out, (System.nanoTime() - t0) / 1e9);
    }

    private static String header(
            String[] args,
            long t0,
            int pretrain,
            double ckptEval,
            int steps,
            double lr,
            int seeds,
            int tail,
            int trainRows,
            int evalRows) {
        return String.format(
                Locale.ROOT,
                "- Machine: %s%n- Date: %s; wall time %.0f s%n"
                        + "- Arguments: `%s` → pretrain %d FP32 steps (checkpoint eval loss %.4f), then %d steps per run at Adam lr %g, "
                        + "%d seeds, "
                        + "train gap over the last %d steps, batch %d, first %d training images, eval = FP32-inference loss on the "
                        + "first %d test images%n",
                BenchEnv.machine(),
                ZonedDateTime.now(),
                (System.nanoTime() - t0) / 1e9,
                String.join(" ", args),
                pretrain,
                ckptEval,
                steps,
                lr,
                seeds,
                tail,
                BATCH,
                trainRows,
                evalRows);
    }

    /** @return {eval loss after the run (FP32 inference), mean training loss over the last {@code tail} steps} */
    static double[] run(
            StudyNet net,
            INDArray params,
            INDArray updater,
            int iter,
            PrecisionPlan plan,
            LocalShard train,
            int[] order,
            int steps,
            int tail,
            DataSet eval) {
        net.model().params().assign(params);
        net.updaterState().assign(updater);
        net.setIteration(iter);
        net.apply(plan);
        double trainLoss = 0;
        for (int s = 0; s < steps; s++) {
            net.fit(batch(train, order, s));
            if (s >= steps - tail) {
                trainLoss += net.model().score() / tail;
            }
        }
        net.apply(PrecisionPlan.empty());
        return new double[] {net.score(eval), trainLoss};
    }

    static DataSet batch(LocalShard shard, int[] order, int step) {
        int per = order.length / BATCH;
        int from = (step % per) * BATCH;
        return shard.batch(order, from, from + BATCH, 10);
    }

    static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        Random r = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** Spearman's ρ with average ranks for ties. */
    static double spearman(double[] a, double[] b) {
        double[] ra = ranks(a);
        double[] rb = ranks(b);
        double ma = 0;
        double mb = 0;
        for (int i = 0; i < a.length; i++) {
            ma += ra[i] / a.length;
            mb += rb[i] / a.length;
        }
        double cov = 0;
        double va = 0;
        double vb = 0;
        for (int i = 0; i < a.length; i++) {
            cov += (ra[i] - ma) * (rb[i] - mb);
            va += (ra[i] - ma) * (ra[i] - ma);
            vb += (rb[i] - mb) * (rb[i] - mb);
        }
        return va == 0 || vb == 0 ? Double.NaN : cov / Math.sqrt(va * vb);
    }

    static double[] ranks(double[] x) {
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int less = 0;
            int eq = 0;
            for (double y : x) {
                less += y < x[i] ? 1 : 0;
                eq += y == x[i] ? 1 : 0;
            }
            r[i] = less + (eq + 1) / 2.0;
        }
        return r;
    }

    private static void log(String fmt, Object... a) {
        System.err.printf(Locale.ROOT, "[sensitivity %tT] " + fmt + "%n", prepend(new java.util.Date(), a));
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
