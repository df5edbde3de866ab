package io.qsync.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The second rank of a two-process benchmark: a child JVM with this JVM's flags and class path. */
final class ChildJvm {
    private ChildJvm() {}

    /** Starts {@code main} with {@code args} in a child JVM (stdin/stdout piped, stderr inherited). */
    static Process start(Class<?> main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }

    /** Prints and writes {@code report} to {@code results}, then checks that the child ended well. */
    static void finish(Process child, String report, Path results) throws IOException, InterruptedException {
        System.out.println(report);
        Files.createDirectories(results.toAbsolutePath().getParent());
        Files.writeString(results, report);
        if (child.waitFor() != 0) {
            throw new IllegalStateException("child exited with " + child.exitValue());
        }
    }

    /** Report lines: machine, date with the load average now, JVM. */
    static String machine() throws IOException {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                .filter(l -> l.startsWith("model name"))
                .findFirst()
                .map(l -> l.substring(l.indexOf(':') + 1).trim())
                .orElse("unknown");
        return "- Machine: " + cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores visible to the JVM\n"
                + "- Date: " + java.time.ZonedDateTime.now() + "; load average at the end (shared machine): "
                + Files.readString(Path.of("/proc/loadavg")).trim() + "\n"
                + "- JVM: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + "\n";
    }

    /** Median of {@code v}. */
    static double median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }
}
