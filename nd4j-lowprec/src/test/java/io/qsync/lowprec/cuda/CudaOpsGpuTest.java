package io.qsync.lowprec.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.cuda.check.CheckResult;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Every GPU op against the CPU emulation (the harness's {@link io.qsync.lowprec.cuda.check.GpuChecks}). Runs only
 * where a CUDA device and the JavaCPP 1.5.13 CUDA presets are present; elsewhere (CI) it is skipped, with the reason,
 * before any JavaCPP class is loaded. On the GPU machine run {@code benchmarks/gpu/run-on-device.sh}.
 */
class CudaOpsGpuTest {
    @Test
    void everyGpuOpMatchesTheCpuEmulation() {
        String why = CudaPresence.whyUnavailable();
        Assumptions.assumeTrue(why == null, why);
        List<CheckResult> results = OnDevice.run();
        assertTrue(
                results.stream().allMatch(CheckResult::pass),
                () -> "failed: " + results.stream().filter(r -> !r.pass()).toList());
    }

    @Test
    void nvmlIsShutDownWhenADeviceQueryFails() {
        String why = CudaPresence.whyUnavailable();
        Assumptions.assumeTrue(why == null, why);
        OnDevice.nvmlIsShutDownAfterAFailedQuery();
    }

    @Test
    void skipDecisionLoadsNoJavaCppClass() throws Exception {
        // CudaPresence answers in a fresh class loader that sees the whole test class path; afterwards no JavaCPP or
        // CUDA presets class may have been loaded by it (loading one would link native code on a machine without CUDA)
        // the launcher's class path plus the loader's own (the JUnit console launcher loads -cp through a child loader)
        java.util.List<URL> urls = new java.util.ArrayList<>();
        if (getClass().getClassLoader() instanceof URLClassLoader own) {
            urls.addAll(Arrays.asList(own.getURLs()));
        }
        for (String p : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            urls.add(Path.of(p).toUri().toURL());
        }
        URL[] path = urls.toArray(URL[]::new);
        try (Isolated loader = new Isolated(path)) {
            Class<?> presence = loader.loadClass(CudaPresence.class.getName());
            Object why = presence.getMethod("whyUnavailable").invoke(null);
            assertFalse(loader.loaded("org.bytedeco.javacpp.Loader"), "JavaCPP's Loader was loaded");
            assertFalse(loader.loaded("org.bytedeco.cuda.global.cudart"), "the CUDA presets were loaded");
            assertTrue(loader.loaded(CudaPresence.class.getName()));
            if (!CudaPresence.driverPresent()) {
                assertTrue(String.valueOf(why).startsWith("no CUDA device"), String.valueOf(why));
            }
        }
    }

    /** A class loader that loads the class path itself (no parent but the platform's) and tells what it loaded. */
    private static final class Isolated extends URLClassLoader {
        Isolated(URL[] urls) {
            super(urls, ClassLoader.getPlatformClassLoader());
        }

        boolean loaded(String name) {
            return findLoadedClass(name) != null;
        }
    }

    /** Touched only after the assumption, so JavaCPP classes are linked only on a GPU machine. */
    private static final class OnDevice {
        static void nvmlIsShutDownAfterAFailedQuery() {
            int[] clocks = new int[2];
            // a bus id no device has: the handle lookup fails after nvmlInit succeeded
            assertTrue(CudaDevice.nvmlFacts("0000:FF:1F.7", clocks) == null);
            // shutting down once more must find NVML uninitialised: the failed query shut it down itself
            assertTrue(
                    org.bytedeco.cuda.global.nvml.nvmlShutdown()
                            == org.bytedeco.cuda.global.nvml.NVML_ERROR_UNINITIALIZED,
                    "NVML was left initialised by a failed query");
        }

        static List<CheckResult> run() {
            try (CudaDevice dev = CudaDevice.open(0);
                    DeviceAllocator alloc = new DeviceAllocator("test", 8L << 30);
                    CudaStream s = new CudaStream();
                    QuantKernels qk = new QuantKernels(dev);
                    LtMatmul lt = new LtMatmul(dev, alloc)) {
                return new io.qsync.lowprec.cuda.check.GpuChecks(
                                alloc, lt, qk, s, System.nanoTime(), dev.facts().hasFp8())
                        .runAll();
            }
        }
    }
}
