package io.qsync.cli;

import io.qsync.lowprec.Precision;
import io.qsync.planner.cost.DeviceProfile;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.profile.Profiler;
import io.qsync.runtime.Backends;
import io.qsync.runtime.EngineRequest;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.TrainingEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.api.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code qsync profile-device}: measures a {@link DeviceProfile} of this machine for one network and per-worker batch
 * with the {@link Profiler} (whole training steps with the layers' in-step timing, every switchable layer at every
 * precision of the menu, remainder fitted by least squares, loopback all-reduce measured) and writes it as JSON for
 * {@code qsync plan --profile}. Run it with the native thread count the trainer will use
 * ({@code spark.qsync.threadsPerWorker}; {@code --threads} sets it here).
 */
@Command(
        name = "profile-device",
        mixinStandardHelpOptions = true,
        description = "Measure this machine's device profile (per-layer costs per precision) for qsync plan --profile.")
public final class ProfileDeviceCommand implements Callable<Integer> {
    @Option(
            names = "--model",
            defaultValue = "fashion-cnn",
            description = "Demo model: " + CliModels.NAMES + ". Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(
            names = "--batch",
            defaultValue = "64",
            description = "Examples per worker step. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(
            names = "--workers",
            defaultValue = "2",
            description = "Workers of the training the profile is for (all-reduce share). Default: ${DEFAULT-VALUE}.")
    int workers;

    @Option(
            names = "--menu",
            defaultValue = "FP32,TF32,BF16,FP16,FP8_E4M3,INT8",
            split = ",",
            description = "Precisions to measure. Default: ${DEFAULT-VALUE}.")
    List<Precision> menu;

    @Option(
            names = "--warmup",
            defaultValue = "3",
            description = "Unmeasured steps per calibration plan. " + "Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(
            names = "--repeats",
            defaultValue = "10",
            description = "Measured steps per calibration plan (median). " + "Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(
            names = "--threads",
            defaultValue = "1",
            description =
                    "Native (BLAS/OpenMP) threads, as " + "spark.qsync.threadsPerWorker. Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(
            names = "--name",
            defaultValue = "cpu-local",
            description = "Profile name, used by qsync plan --devices. " + "Default: ${DEFAULT-VALUE}.")
    String name;

    @Option(
            names = "--backend",
            defaultValue = "cpu",
            description = "Backend whose device is profiled (cpu, cuda, "
                    + "auto), as spark.qsync.backend. Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--out", required = true, description = "Profile JSON file to write.")
    Path out;

    /** Creates the command. */
    public ProfileDeviceCommand() {}

    @Override
    public Integer call() throws Exception {
        if (batch < 1 || workers < 1 || threads < 1) {
            throw new IllegalArgumentException(
                    "--batch, --workers and --threads must be >= 1, got " + batch + ", " + workers + ", " + threads);
        }
        if (!menu.contains(Precision.FP32)) {
            throw new IllegalArgumentException(
                    "--menu must contain FP32 (layers the plan does not name run at FP32), got " + menu);
        }
        Model net = CliModels.build(model, null, 1);
        LayerGraph graph = CliModels.graph(model, net).withName(CliModels.canonical(model));
        DeviceProfile p;
        try (TrainingEngine engine =
                Backends.select(backend).open(new EngineRequest(ModelSpec.of(net), null, -1, threads, batch))) {
            p = new Profiler(warmup, repeats)
                    .profile(name, engine, graph, CliModels.randomHostBatch(batch), menu, batch * workers, workers);
        }
        if (out.toAbsolutePath().getParent() != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
        }
        Files.writeString(out, p.toJson());
        System.out.println(
                "profiled " + graph.switchableIds().size() + " switchable layers of " + CliModels.canonical(model)
                        + " at " + p.precisions() + ", batch " + batch + " per worker: " + p.source());
        System.out.println("wrote " + out + " (use: qsync plan --model " + CliModels.canonical(model) + " --profile "
                + out + " --devices " + name + ":" + workers + " --batch " + batch + ")");
        return 0;
    }
}
