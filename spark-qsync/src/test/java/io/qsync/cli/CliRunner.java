package io.qsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/** Runs the {@code qsync} command line in-process and captures what it prints. */
final class CliRunner {
    private CliRunner() {}

    /** @return standard output of a run that must exit with 0 (the output is the failure message otherwise) */
    static String run(String... args) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int rc;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            rc = new CommandLine(new QSyncCli()).execute(args);
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, out);
        return out;
    }

    /** @return exit code and standard error of a run, with the error handling of {@link QSyncCli#main} */
    static Result runCapturingErrors(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CommandLine cli = QSyncCli.commandLine();
        cli.setErr(new java.io.PrintWriter(err, true, StandardCharsets.UTF_8));
        int rc = cli.execute(args);
        return new Result(rc, err.toString(StandardCharsets.UTF_8));
    }

    /** Exit code and standard error of a run. */
    record Result(int exitCode, String stderr) {}
}
