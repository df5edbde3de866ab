package io.qsync.lowprec.cuda;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Detects an NVIDIA driver without loading JavaCPP (so CI without a GPU never touches native CUDA code).
 */
public final class CudaPresence {
    private CudaPresence() {}

    /** @return true when the NVIDIA kernel driver is present ({@code /dev/nvidiactl} or the driver's proc file). */
    public static boolean driverPresent() {
        return Files.exists(Path.of("/dev/nvidiactl")) || Files.exists(Path.of("/proc/driver/nvidia/version"));
    }

    /**
     * @return true when the JavaCPP CUDA presets (1.5.13) are on the class path as well; checked by resource name,
     *         without initialising any class
     */
    public static boolean presetsOnClassPath() {
        ClassLoader cl = CudaPresence.class.getClassLoader();
        return cl.getResource("org/bytedeco/cuda/global/cudart.class") != null
                && cl.getResource("org/bytedeco/javacpp/Loader.class") != null;
    }

    /** @return a sentence saying why GPU checks cannot run here, or null when they can */
    public static String whyUnavailable() {
        if (!driverPresent()) {
            return "no CUDA device: /dev/nvidiactl and /proc/driver/nvidia/version absent; GPU checks skipped; "
                    + "run benchmarks/gpu/run-on-device.sh";
        }
        if (!presetsOnClassPath()) {
            return "CUDA driver present but org.bytedeco:cuda presets not on the class path; GPU checks skipped; "
                    + "run benchmarks/gpu/run-on-device.sh";
        }
        if (!"1.5.13".equals(javacppVersion())) {
            return "CUDA driver present but javacpp " + javacppVersion()
                    + " on the class path (the CUDA 13 presets need "
                    + "1.5.13 and its linux-x86_64 jar); GPU checks skipped";
        }
        return null;
    }

    private static String javacppVersion() {
        try (var in = CudaPresence.class
                .getClassLoader()
                .getResourceAsStream("META-INF/maven/org.bytedeco/javacpp/pom.properties")) {
            if (in == null) {
                return "unknown";
            }
            var p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
