package io.qsync.bench.gpu;

import io.qsync.lowprec.cuda.CudaDevice;
import io.qsync.lowprec.cuda.CudaStream;
import io.qsync.lowprec.cuda.DeviceAllocator;
import io.qsync.lowprec.cuda.DeviceFacts;
import io.qsync.lowprec.cuda.GemmType;
import io.qsync.lowprec.cuda.LtMatmul;
import io.qsync.lowprec.cuda.QuantKernels;
import io.qsync.lowprec.cuda.check.CheckResult;
import io.qsync.lowprec.cuda.check.GpuChecks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Device-side harness: prints the device facts, runs every correctness check against the CPU emulation
 * ({@link GpuChecks}), runs the benchmarks ({@link GpuBench}) and writes {@code results.md} and {@code profile.json}
 * into the output directory. Runs on a class path of this module's classes + javacpp 1.5.13 + cuda presets, without
 * ND4J (see benchmarks/gpu/run-on-device.sh).
 *
 * <p>Usage: {@code GpuCheckAndBench <outDir> [full|checks|smoke] [ordinal]}; exits 1 if a check fails.
 */
public final class GpuCheckAndBench {
    private GpuCheckAndBench() {}

    /** @param args output directory, mode, device ordinal */
    public static void main(String[] args) throws IOException {
        Path out = Path.of(args.length > 0 ? args[0] : ".");
        String mode = args.length > 1 ? args[1] : "full";
        int ordinal = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        Files.createDirectories(out);
        long seed = System.nanoTime();
        long t0 = System.nanoTime();
        try (CudaDevice dev = CudaDevice.open(ordinal)) {
            DeviceFacts f = dev.facts();
            System.out.println("Device " + ordinal + ": " + f);
            long budget = (long) (dev.freeBytes() * 0.9);
            try (DeviceAllocator alloc = new DeviceAllocator("gpu-check-and-bench", budget);
                    CudaStream s = new CudaStream();
                    QuantKernels qk = new QuantKernels(dev);
                    LtMatmul lt = new LtMatmul(dev, alloc)) {
                System.out.println("NVRTC compiled quant_kernels.cu for " + f.arch());
                List<CheckResult> checks;
                if (mode.equals("smoke")) {
                    checks = smoke(alloc, lt, qk, s, seed, f);
                } else {
                    checks = new GpuChecks(alloc, lt, qk, s, seed, f.hasFp8()).runAll();
                }
                long failed = checks.stream().filter(c -> !c.pass()).count();
                System.out.printf(
                        "checks: %d, failed: %d (input seed %d), %.1f s%n",
                        checks.size(), failed, seed, (System.nanoTime() - t0) / 1e9);
                GpuBench bench = null;
                if (mode.equals("full")) {
                    bench = new GpuBench(alloc, lt, qk, s, f.hasFp8());
                    bench.runAll();
                }
                System.out.printf(
                        "cuBLASLt plans cached: %d; allocator peak %.2f GiB of %.2f GiB budget%n",
                        lt.cachedPlans(), alloc.peakBytes() / 1073741824.0, budget / 1073741824.0);
                write(out, f, mode, seed, checks, bench);
                System.out.printf("total %.1f s%n", (System.nanoTime() - t0) / 1e9);
                if (failed > 0) {
                    System.exit(1);
                }
            }
        }
    }

    private static List<CheckResult> smoke(
            DeviceAllocator alloc, LtMatmul lt, QuantKernels qk, CudaStream s, long seed, DeviceFacts f) {
        GpuChecks c = new GpuChecks(alloc, lt, qk, s, seed, f.hasFp8());
        List<CheckResult> r = c.runAll();
        // one timed GEMM per type at 4096³ to exercise the timing path
        GpuBench b = new GpuBench(alloc, lt, qk, s, f.hasFp8());
        for (GemmType t : List.of(GemmType.FP16, GemmType.INT8)) {
            try (var a = alloc.allocate("a", 4096L * 4096 * t.aBytes);
                    var bb = alloc.allocate("b", 4096L * 4096 * t.bBytes);
                    var d = alloc.allocate("d", 4096L * 4096 * t.dBytes)) {
                a.fill(1);
                bb.fill(1);
                lt.matmul(t, false, true, 4096, 4096, 4096, a, bb, d, null, null, s);
                s.synchronize("smoke gemm " + t);
                System.out.println("smoke GEMM " + t + " 4096^3 ran");
            }
        }
        return r;
    }

    private static void write(Path out, DeviceFacts f, String mode, long seed, List<CheckResult> checks, GpuBench bench)
            throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# GPU checks and benchmarks: ").append(f.name()).append("\n\n");
        md.append("- date: ")
                .append(Instant.now())
                .append("\n- device: ")
                .append(f)
                .append("\n- mode: ")
                .append(mode)
                .append("\n- input seed: ")
                .append(seed)
                .append("\n\n## Correctness against the CPU emulation (")
                .append(f.name())
                .append(")\n\n");
        md.append(
                "| check | metric | value | tolerance | NaN | unwritten | elements | result |\n|---|---|---|---|---|---|---|---|\n");
        for (CheckResult c : checks) {
            md.append(c.row()).append('\n');
        }
        long failed = checks.stream().filter(c -> !c.pass()).count();
        md.append("\n")
                .append(checks.size() - failed)
                .append(" of ")
                .append(checks.size())
                .append(" checks pass.\n");
        Map<String, Object> prof = new LinkedHashMap<>();
        prof.put("schema", "qsync.deviceProfile/1");
        prof.put("measuredAt", Instant.now().toString());
        prof.put("deviceName", f.name());
        prof.put("card", f.cardTag());
        prof.put("computeCapability", f.ccMajor() + "." + f.ccMinor());
        prof.put("memoryBytes", f.totalMemBytes());
        prof.put("smCount", f.smCount());
        prof.put("l2Bytes", f.l2Bytes());
        prof.put("maxSmClockMHz", f.maxSmClockMHz());
        prof.put("maxMemClockMHz", f.maxMemClockMHz());
        prof.put("driverVersion", f.driverVersion());
        prof.put("runtimeVersion", f.runtimeVersion());
        prof.put("checksPassed", checks.size() - failed);
        prof.put("checksTotal", checks.size());
        if (bench != null) {
            md.append("\n## Benchmarks (").append(f.name()).append(")\n\n```\n");
            bench.log().forEach(l -> md.append(l).append('\n'));
            md.append("```\n");
            prof.putAll(bench.profile);
        }
        Files.writeString(out.resolve("results.md"), md.toString());
        Files.writeString(out.resolve("profile.json"), Json.write(prof));
        System.out.println("wrote " + out.resolve("results.md") + " and " + out.resolve("profile.json"));
    }
}
