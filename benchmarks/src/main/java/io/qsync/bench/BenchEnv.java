package io.qsync.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Describes the machine a benchmark ran on. */
final class BenchEnv {
    private BenchEnv() {}

    static String machine() {
        String cpu = "unknown CPU";
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    cpu = l.substring(l.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException e) {
            // keep the default
        }
        String load = "";
        try {
            load = ", load average "
                    + Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            // keep empty
        }
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores, Java "
                + System.getProperty("java.version") + load;
    }
}
