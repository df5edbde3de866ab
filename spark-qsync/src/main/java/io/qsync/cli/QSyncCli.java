package io.qsync.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code qsync} command: {@code train} (synchronous training of the demo CNN on Fashion-MNIST),
 * {@code profile-stats} (indicator statistics and layer graph as JSON), {@code indicator} (ω per layer and precision),
 * {@code profile-device} (this machine's device profile for the planner) and {@code plan} (precision plans for a hybrid
 * cluster, with a report). Usable as a
 * spark-submit main class ({@code --class io.qsync.cli.QSyncCli}) or directly on an embedded local Spark.
 */
@Command(
        name = "qsync",
        mixinStandardHelpOptions = true,
        version = "spark-qsync 0.1.0",
        description = "Quantization-minimized synchronous training of DL4J models on Spark.",
        subcommands = {
            TrainCommand.class,
            ProfileStatsCommand.class,
            IndicatorCommand.class,
            ProfileDeviceCommand.class,
            PlanCommand.class
        })
public final class QSyncCli {
    /** Creates the top-level command (for {@code new CommandLine(new QSyncCli())}). */
    public QSyncCli() {}

    /** The command line as {@link #main} runs it: errors a user can fix are printed as one line. */
    public static CommandLine commandLine() {
        return new CommandLine(new QSyncCli()).setExecutionExceptionHandler(new CliErrors());
    }

    /** Runs the command line and exits with its status. */
    public static void main(String[] args) {
        int rc = commandLine().execute(args);
        System.exit(rc);
    }
}
