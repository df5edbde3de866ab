package io.qsync.spark.devices;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The host CPU as a device: its model name and widest vector instruction set, from {@code /proc/cpuinfo}. */
final class CpuFacts {
    private static final Path CPUINFO = Path.of("/proc/cpuinfo");

    private CpuFacts() {}

    /** @return the CPU's model name, or {@code os.arch} where {@code /proc/cpuinfo} does not say */
    static String modelName() {
        for (String line : cpuinfo()) {
            if (line.startsWith("model name") || line.startsWith("Model")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return System.getProperty("os.arch");
    }

    /** @return {@code avx512}, {@code avx2}, {@code avx}, {@code neon} or {@code base} */
    static String isa() {
        for (String line : cpuinfo()) {
            if (line.startsWith("flags") || line.startsWith("Features")) {
                return isaOf(line.substring(line.indexOf(':') + 1));
            }
        }
        return "base";
    }

    /** @return the widest instruction set named in a {@code flags} (x86) or {@code Features} (ARM) line */
    static String isaOf(String flags) {
        List<String> f = List.of(flags.trim().toLowerCase(Locale.ROOT).split("\\s+"));
        if (f.contains("avx512f")) {
            return "avx512";
        }
        if (f.contains("avx2")) {
            return "avx2";
        }
        if (f.contains("avx")) {
            return "avx";
        }
        if (f.contains("asimd") || f.contains("neon")) {
            return "neon";
        }
        return "base";
    }

    /** @return the device type of a CPU worker with {@code threads} host threads, e.g. {@code cpu-avx2-8t} */
    static String type(String isa, int threads) {
        return "cpu-" + isa + "-" + threads + "t";
    }

    private static List<String> cpuinfo() {
        try {
            return Files.isReadable(CPUINFO) ? Files.readAllLines(CPUINFO) : List.of();
        } catch (IOException e) {
            return List.of();
        }
    }
}
