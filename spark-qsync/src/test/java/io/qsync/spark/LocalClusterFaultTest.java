package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults on a multi-JVM Spark ({@code local-cluster}: the driver and two executors are separate processes), driven by
 * {@link ClusterDriverMain} in a child JVM.
 */
class LocalClusterFaultTest {

  /** Runs the driver child; returns its {@code RESULT} line (without the prefix) and echoes its fault lines. */
  private static String runDriver(Path home, String... args) throws Exception {
    List<String> flags = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> a.startsWith("--add-") || a.startsWith("-XX:+IgnoreUnrecognized") || a.startsWith("--enable-")
            || a.startsWith("--sun-misc") || a.startsWith("-Dio.netty") || a.startsWith("-Djdk.reflect"))
        .toList();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(flags);
    cmd.add("-Dqsync.test.jvmFlags=" + flags.stream().collect(Collectors.joining(" ")));
    cmd.addAll(List.of("-Xmx1g", "-cp", System.getProperty("java.class.path"), ClusterDriverMain.class.getName()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("SPARK_HOME", ClusterDriverMain.sparkHome(home.toFile()).getAbsolutePath());
    pb.environment().put("SPARK_SCALA_VERSION", "2.13");
    Process p = pb.start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      String result = null;
      while ((line = out.readLine()) != null) {
        if (line.startsWith("RESULT ")) {
          result = line.substring(7);
        }
        if (line.startsWith("RESULT ") || line.startsWith("KILLED") || line.contains("ERROR")) {
          System.out.println("driver: " + line);
        }
      }
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "driver exits");
      assertTrue(result != null, "the driver printed no RESULT line");
      return result;
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void aNodeLostForGoodEndsTheJobWithinTheSlotWaitNamingTheSlots(@TempDir Path home) {
    String r = assertTimeoutPreemptively(Duration.ofSeconds(300), () -> runDriver(home, "lose-node", "20s"));
    assertTrue(r.startsWith("failed "), r);
    double seconds = Double.parseDouble(r.split(" ")[1]);
    System.out.printf("node lost for good: job ended %.1f s after the fault (slotWaitTimeout 20 s)%n", seconds);
    assertTrue(r.contains("needs 2 task slots at once, but the cluster has 1"), r);
    assertTrue(r.contains("spark.qsync.slotWaitTimeout"), r);
    assertTrue(seconds <= 60, "ended " + seconds + " s after the fault");
  }
}
