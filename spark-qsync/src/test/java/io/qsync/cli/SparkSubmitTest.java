package io.qsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spark-submit --class io.qsync.cli.QSyncCli ... train} in a child JVM through Spark's own submit entry point
 * ({@code org.apache.spark.deploy.SparkSubmit}, which the spark-submit script runs): {@code --conf spark.qsync.*}
 * settings reach the job, and a bad value ends it with one line naming key and value.
 */
class SparkSubmitTest {

    @Test
    void sparkSubmitConfSettingsReachTheJob(@TempDir Path dir) throws Exception {
        Run r = submit(
                dir,
                List.of(
                        "--conf",
                        "spark.qsync.epochs=2",
                        "--conf",
                        "spark.qsync.numWorkers=1",
                        "--conf",
                        "spark.qsync.typo=3"),
                "train",
                "--limit",
                "1200",
                "--output",
                dir.resolve("m.zip").toString());
        assertEquals(0, r.exitCode, r.all());
        assertTrue(r.stdout.contains("1 workers on local[2], global batch 64, 2 epoch(s)"), r.stdout);
        assertTrue(r.stdout.contains("epoch 2/2"), r.stdout);
        assertTrue(r.stdout.contains("final test accuracy"), r.stdout);
        assertTrue(r.stderr.contains("ignoring unknown setting spark.qsync.typo=3"), r.stderr);
    }

    @Test
    void aBadValueIsOneLineNamingKeyAndValue(@TempDir Path dir) throws Exception {
        Run r = submit(
                dir,
                List.of("--conf", "spark.qsync.epochs=2", "--conf", "spark.qsync.comm.ioTimeout=banana"),
                "train",
                "--limit",
                "1200");
        assertEquals(2, r.exitCode, r.all());
        assertTrue(
                r.stderr.contains("qsync train: invalid spark.qsync.comm.ioTimeout=banana: must be a positive "
                        + "duration such as 500ms, 30s or 2m\n"),
                r.stderr);
        assertFalse(r.stderr.contains("\tat "), "no stack trace: " + r.stderr);
        Run d = submit(dir, List.of("--conf", "spark.qsync.data.dir=/nonexistent/fmnist"), "train");
        assertEquals(2, d.exitCode, d.all());
        assertTrue(d.stderr.contains("qsync train: ") && d.stderr.contains("/nonexistent/fmnist"), d.stderr);
        assertFalse(d.stderr.contains("\tat "), "no stack trace: " + d.stderr);
    }

    private record Run(int exitCode, String stdout, String stderr) {
        String all() {
            return stdout + "\n--- stderr ---\n" + stderr;
        }
    }

    private static Run submit(Path dir, List<String> confs, String... appArgs)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-")
                    || a.startsWith("-XX:+IgnoreUnrecognized")
                    || a.startsWith("-Dio.netty")
                    || a.startsWith("-Djdk.reflect")) {
                cmd.add(a);
            }
        }
        cmd.addAll(List.of(
                "-Xmx2g",
                "-cp",
                System.getProperty("java.class.path"),
                "org.apache.spark.deploy.SparkSubmit",
                "--master",
                "local[2]",
                "--class",
                QSyncCli.class.getName(),
                "--conf",
                "spark.ui.enabled=false"));
        cmd.addAll(confs);
        cmd.add("spark-internal");
        cmd.addAll(List.of(appArgs));
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = new ProcessBuilder(cmd)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        if (!p.waitFor(Duration.ofMinutes(4).toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("spark-submit did not finish in 4 minutes: " + Files.readString(err));
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }
}
