package io.qsync.bench;

import io.qsync.comm.CommConfig;
import io.qsync.comm.LocalGroup;
import io.qsync.data.FashionMnist;
import io.qsync.models.DemoModels;
import io.qsync.runtime.EpochStats;
import io.qsync.runtime.LocalShard;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.ProgressSink;
import io.qsync.runtime.RuntimeParams;
import io.qsync.runtime.WorkerLoop;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A worker's batch gathered on its step's thread (the baseline, {@code -Dqsync.batchAhead=false}) against gathered a
 * step ahead on a background thread ({@code io.qsync.runtime.BatchesAhead}): whole epochs of the real training loop
 * ({@link WorkerLoop}, one rank, CPU backend, one native thread) on shuffled Fashion-MNIST rows, the two ways
 * interleaved in one JVM. Reports per run the median step, the exposed batch assembly (the step's wait for its batch)
 * and samples/s, then the medians over runs and their ratio. On a GPU worker the gather is a larger share of the step
 * (0.23-0.81 ms of the demo CNN's 1.4 ms on the H100 host), which this CPU run cannot show; the exposed assembly is the
 * part the background thread takes off the step either way.
 *
 * <p>Usage: {@code benchmarks/run.sh io.qsync.bench.BatchAheadBench <out.md> [rows] [batch] [rounds]}
 */
public final class BatchAheadBench {
    private BatchAheadBench() {}

    /** One epoch's figures. */
    private record Run(boolean ahead, double stepMs, double batchMs, double samplesPerSecond) {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "benchmarks/results/batch-ahead.md");
        int rows = args.length > 1 ? Integer.parseInt(args[1]) : 32768;
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 1024;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 4;
        String machine = BenchEnv.machine();
        LocalShard shard =
                FashionMnist.load(FashionMnist.Split.TRAIN).head(rows).toShard();
        MultiLayerNetwork net = new MultiLayerNetwork(DemoModels.mlp(1, 256, 1e-3));
        net.init();
        ModelSpec spec = ModelSpec.of(net);
        RuntimeParams params = new RuntimeParams(1, batch, 10, true, 5, 0, 1, "cpu");
        epoch(spec, params, shard, true); // warm-up: JIT, native libraries
        List<Run> runs = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            for (boolean ahead : r % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                runs.add(epoch(spec, params, shard, ahead));
            }
        }
        StringBuilder md = new StringBuilder("# A worker's batch gathered a step ahead (CPU backend)\n\n");
        md.append("- Machine: ").append(machine).append("\n- Date: ").append(ZonedDateTime.now());
        md.append("\n- Command: `benchmarks/run.sh io.qsync.bench.BatchAheadBench ")
                .append(String.join(" ", args))
                .append("`\n- One epoch of ")
                .append(rows)
                .append(" shuffled Fashion-MNIST rows per run, ")
                .append(batch)
                .append(" rows a step, MLP 784-256-256-10 (Adam), one rank, one native thread; the two ways ")
                .append("interleaved, ")
                .append(rounds)
                .append(" rounds after a warm-up epoch.\n\n");
        md.append("| run | batch gathered | median step ms | exposed batch assembly ms | samples/s |\n");
        md.append("|---|---|---|---|---|\n");
        for (int i = 0; i < runs.size(); i++) {
            Run x = runs.get(i);
            md.append(String.format(
                    "| %d | %s | %.3f | %.3f | %.0f |%n",
                    i + 1, x.ahead() ? "ahead" : "in turn", x.stepMs(), x.batchMs(), x.samplesPerSecond()));
        }
        double[] base = medians(runs, false);
        double[] ahead = medians(runs, true);
        md.append(String.format(
                "%n**Medians over runs:** in turn %.3f ms a step (batch %.3f ms exposed), %.0f samples/s; ahead %.3f ms"
                        + " (batch %.3f ms exposed), %.0f samples/s. **Ahead / in turn, samples/s: %.3f×**; exposed"
                        + " batch assembly %.3f → %.3f ms.%n",
                base[0], base[1], base[2], ahead[0], ahead[1], ahead[2], ahead[2] / base[2], base[1], ahead[1]));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, md.toString());
        System.out.print(md);
    }

    private static double[] medians(List<Run> runs, boolean ahead) {
        List<Run> of = runs.stream().filter(r -> r.ahead() == ahead).toList();
        return new double[] {
            Medians.of(of.stream().map(Run::stepMs).toList()),
            Medians.of(of.stream().map(Run::batchMs).toList()),
            Medians.of(of.stream().map(Run::samplesPerSecond).toList())
        };
    }

    private static Run epoch(ModelSpec spec, RuntimeParams params, LocalShard shard, boolean ahead) {
        System.setProperty("qsync.batchAhead", String.valueOf(ahead));
        try {
            LocalGroup group = new LocalGroup(1, CommConfig.defaults());
            WorkerLoop.Outcome o =
                    new WorkerLoop(group.join(0), params, null, ProgressSink.NONE).run(spec, shard, null);
            EpochStats e = o.history().epochs().get(0);
            return new Run(ahead, e.medianStepMillis(), e.phases().batchMillis(), e.samplesPerSecond());
        } finally {
            System.clearProperty("qsync.batchAhead");
        }
    }
}
