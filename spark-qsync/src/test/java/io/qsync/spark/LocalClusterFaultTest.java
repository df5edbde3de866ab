package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults on a multi-JVM Spark ({@code local-cluster}: the driver and two executors are separate processes), driven by
 * {@link ClusterDriverMain} in a child JVM.
 */
class LocalClusterFaultTest {

    /** Runs the driver child; returns its {@code RESULT} lines (without the prefix) by job name. */
    private static Map<String, String> runDriver(Path home, String... args) throws Exception {
        List<String> flags = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-")
                        || a.startsWith("-XX:+IgnoreUnrecognized")
                        || a.startsWith("--enable-")
                        || a.startsWith("--sun-misc")
                        || a.startsWith("-Dio.netty")
                        || a.startsWith("-Djdk.reflect"))
                .toList();
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        cmd.add("-Dqsync.test.jvmFlags=" + flags.stream().collect(Collectors.joining(" ")));
        cmd.addAll(List.of("-Xmx1g", "-cp", System.getProperty("java.class.path"), ClusterDriverMain.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment()
                .put(
                        "SPARK_HOME",
                        ClusterDriverMain.sparkHome(home.resolve("spark").toFile())
                                .getAbsolutePath());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        Process p = pb.start();
        Map<String, String> results = new HashMap<>();
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("RESULT ")) {
                    String[] f = line.substring(7).split(" ", 2);
                    results.put(f[0], f[1]);
                }
                if (line.startsWith("RESULT ") || line.startsWith("KILLED") || line.contains("ERROR")) {
                    System.out.println("driver: " + line);
                }
            }
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "driver exits");
            return results;
        } finally {
            p.destroyForcibly();
        }
    }

    private static String field(String result, String name) {
        for (String f : result.split(" ")) {
            if (f.startsWith(name + "=")) {
                return f.substring(name.length() + 1);
            }
        }
        throw new AssertionError("no " + name + " in " + result);
    }

    @Test
    void killedExecutorResumesFromItsCheckpointAndALostNodeEndsTheJobWithTheSlotMessage(@TempDir Path home) {
        Map<String, String> r = assertTimeoutPreemptively(
                Duration.ofSeconds(480),
                () -> runDriver(home, home.resolve("checkpoints").toString(), "20s"));
        String plain = r.get("uninterrupted");
        String resumed = r.get("resumed");
        String lost = r.get("lost-node");
        assertTrue(plain != null && plain.contains(" ok "), "uninterrupted run: " + plain);
        // SIGKILL mid-epoch (32 steps per epoch), checkpoints every 20 steps: the retry resumes from the last one
        assertTrue(resumed != null && resumed.contains(" ok "), "killed run: " + resumed);
        int killedAt = Integer.parseInt(field(resumed, "faultAtStep"));
        int resumedAt = Integer.parseInt(field(resumed, "resumedAt"));
        System.out.printf(
                "executor SIGKILLed after step %d; the retried stage resumed at step %d%n", killedAt, resumedAt);
        assertTrue(killedAt >= 30, "killed at " + killedAt);
        assertTrue(
                resumedAt > 0 && resumedAt % 20 == 0 && resumedAt <= killedAt + 1,
                "resumed at " + resumedAt + " (a checkpoint step, not 0)");
        assertEquals(field(plain, "checksum"), field(resumed, "checksum"), "resumed run bitwise equals uninterrupted");
        assertEquals(field(resumed, "checksum"), field(resumed, "replicas"));
        // a node lost for good
        assertTrue(lost != null && lost.contains(" failed "), "lost node: " + lost);
        double seconds = Double.parseDouble(field(lost, "secondsAfterFault"));
        System.out.printf("node lost for good: job ended %.1f s after the fault (slotWaitTimeout 20 s)%n", seconds);
        assertTrue(lost.contains("needs 2 task slots at once, but the cluster has 1"), lost);
        assertTrue(lost.contains("spark.qsync.slotWaitTimeout"), lost);
        assertTrue(seconds <= 60, "ended " + seconds + " s after the fault");
    }
}
