package io.qsync.spark;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.spark.sql.SparkSession;

/**
 * Runs a Spark driver for {@code local-cluster} in a child JVM (so that the workers' Spark home and environment are
 * its own) and collects its {@code RESULT <name> <text>} lines.
 */
final class ClusterDrivers {
    private ClusterDrivers() {}

    /**
     * A session builder for a driver child on {@code master}: its executors get this JVM's class path and flags, Kryo
     * with the ND4J registrator, no UI.
     *
     * @param master         e.g. {@code local-cluster[2,1,1024]}
     * @param app            application name
     * @param executorMemory e.g. {@code 900m}
     */
    static SparkSession.Builder builder(String master, String app, String executorMemory) {
        return SparkSession.builder()
                .master(master)
                .appName(app)
                .config("spark.ui.enabled", "false")
                .config("spark.executor.memory", executorMemory)
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .config("spark.executor.extraJavaOptions", System.getProperty("qsync.test.jvmFlags", ""))
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", QSyncKryoRegistrator.class.getName())
                .config("spark.sql.shuffle.partitions", "2");
    }

    /**
     * @param main the driver's main class
     * @param home a scratch directory (the Spark home goes under it)
     * @param args the driver's arguments
     * @return its {@code RESULT} lines (without the prefix) by name
     */
    static Map<String, String> run(Class<?> main, Path home, String... args) throws Exception {
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
        cmd.addAll(List.of("-Xmx1g", "-cp", System.getProperty("java.class.path"), main.getName()));
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
                if (System.getenv("QSYNC_DRIVER_LOG") != null) {
                    java.nio.file.Files.writeString(
                            Path.of(System.getenv("QSYNC_DRIVER_LOG")),
                            line + "\n",
                            java.nio.file.StandardOpenOption.CREATE,
                            java.nio.file.StandardOpenOption.APPEND);
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
}
