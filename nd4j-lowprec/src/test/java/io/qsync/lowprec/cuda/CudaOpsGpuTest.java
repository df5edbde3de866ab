package io.qsync.lowprec.cuda;

import io.qsync.lowprec.cuda.bench.CheckResult;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every GPU op against the CPU emulation (the harness's {@link io.qsync.lowprec.cuda.bench.GpuChecks}). Runs only
 * where a CUDA device and the JavaCPP 1.5.13 CUDA presets are present; elsewhere (CI, and any Maven run, whose class
 * path has ND4J's javacpp 1.5.7) it is skipped before any JavaCPP class is loaded. On the GPU machine run
 * {@code benchmarks/gpu/run-on-device.sh}.
 */
class CudaOpsGpuTest {
    @Test
    void everyGpuOpMatchesTheCpuEmulation() {
        String why = CudaPresence.whyUnavailable();
        Assumptions.assumeTrue(why == null, why);
        List<CheckResult> results = OnDevice.run();
        assertTrue(results.stream().allMatch(CheckResult::pass), () -> "failed: " + results.stream().filter(r -> !r.pass()).toList());
    }

    @Test
    void skipDecisionNeedsNoJavaCpp() {
        // CudaPresence must answer without initialising JavaCPP: whatever it says, no native library may be loaded
        CudaPresence.whyUnavailable();
        assertTrue(CudaPresence.driverPresent() || CudaPresence.whyUnavailable().startsWith("no CUDA device"));
    }

    /** Touched only after the assumption, so JavaCPP classes are linked only on a GPU machine. */
    private static final class OnDevice {
        static List<CheckResult> run() {
            try (CudaDevice dev = CudaDevice.open(0);
                 DeviceAllocator alloc = new DeviceAllocator("test", 8L << 30);
                 CudaStream s = new CudaStream();
                 QuantKernels qk = new QuantKernels(dev);
                 LtMatmul lt = new LtMatmul(dev, alloc)) {
                return new io.qsync.lowprec.cuda.bench.GpuChecks(alloc, lt, qk, s, System.nanoTime(), dev.facts().hasFp8()).runAll();
            }
        }
    }
}
