package io.qsync.lowprec.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel sources compile, with the options {@link KernelModule} hands NVRTC, for every GPU architecture the CUDA
 * 13 compiler targets (the T4's sm_75 as well as the H100's sm_90 that the device machine runs), and as PTX for the
 * newest virtual architecture (what a card newer than the compiler gets). A kernel that uses an instruction of a
 * later architecture (as {@code __reduce_add_sync}, sm_80 and up, once did) would otherwise fail only on the inference
 * card, at the worker's start. Needs no GPU: nvcc compiles here (nvcc and NVRTC share their front end). Skips,
 * saying why, where no nvcc is installed; CI's machines have CUDA 13.0's.
 */
class KernelSourcesCompileTest {
    private static final Pattern SPILLS = Pattern.compile("(\\d+) bytes spill stores");

    @TempDir
    Path dir;

    /** nvcc from {@code CUDA_HOME}, the {@code PATH} or {@code /usr/local/cuda}, or null. */
    static Path nvcc() {
        List<Path> candidates = new ArrayList<>();
        String home = System.getenv("CUDA_HOME");
        if (home != null) {
            candidates.add(Path.of(home, "bin", "nvcc"));
        }
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!d.isEmpty()) {
                candidates.add(Path.of(d, "nvcc"));
            }
        }
        candidates.add(Path.of("/usr/local/cuda/bin/nvcc"));
        return candidates.stream().filter(Files::isExecutable).findFirst().orElse(null);
    }

    /** Runs a command to its end (at most 5 minutes); returns {exit status, output}. */
    static String[] run(List<String> command, Path cwd) throws IOException, InterruptedException {
        // output to a file, so that the timeout below holds even if the process never closes its output
        Path log = Files.createTempFile(cwd, "nvcc", ".log");
        Process p = new ProcessBuilder(command)
                .directory(cwd.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        boolean done = p.waitFor(5, TimeUnit.MINUTES);
        if (!done) {
            p.destroyForcibly();
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        return new String[] {done ? String.valueOf(p.exitValue()) : "timeout after 5 min", out};
    }

    /** The real architectures nvcc can compile for ({@code sm_XY} for each {@code compute_XY} it lists). */
    static List<String> architectures(Path nvcc, Path cwd) throws Exception {
        String[] r = run(List.of(nvcc.toString(), "--list-gpu-arch"), cwd);
        assertEquals("0", r[0], "nvcc --list-gpu-arch: " + r[1]);
        return Stream.of(r[1].split("\\s+"))
                .filter(a -> a.startsWith("compute_"))
                .map(a -> "sm_" + a.substring("compute_".length()))
                .distinct()
                .toList();
    }

    /** A card newer than NVRTC gets PTX for the newest virtual architecture NVRTC knows, never a newer one. */
    @Test
    void aCardNewerThanTheCompilerGetsPtxForItsNewestVirtualArchitecture() {
        int[] cuda13 = {75, 80, 86, 87, 88, 89, 90, 100, 103, 110, 120, 121};
        assertEquals("compute_121", KernelModule.virtualArch(130, cuda13));
        assertEquals("compute_90", KernelModule.virtualArch(95, cuda13), "not a newer architecture than the card");
        assertEquals(null, KernelModule.virtualArch(90, cuda13), "its own architecture: CUBIN, any failure stands");
        assertEquals(null, KernelModule.virtualArch(70, cuda13), "older than every supported one (a V100)");
        assertEquals(null, KernelModule.virtualArch(90, new int[0]), "NVRTC could not say");
    }

    @Test
    void everyKernelSourceCompilesForEveryArchitectureWithoutWarnings() throws Exception {
        Path nvcc = nvcc();
        assumeTrue(
                nvcc != null,
                "no nvcc (CUDA_HOME, PATH, /usr/local/cuda): the kernel sources are compiled only by NVRTC on a GPU");
        List<String> archs = architectures(nvcc, dir);
        assertTrue(
                archs.contains("sm_75") && archs.contains("sm_90"),
                "nvcc should target the T4 (sm_75) and the H100 (sm_90): " + archs);
        List<Path> sources = new ArrayList<>();
        for (String name : List.of("quant_kernels.cu", "train_kernels.cu")) {
            Path f = dir.resolve(name);
            Files.writeString(f, KernelModule.resourceText(name)); // what NVRTC gets: the class path's copy
            sources.add(f);
        }
        ExecutorService pool =
                Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()));
        try {
            List<Future<String>> results = new ArrayList<>();
            for (String arch : archs) {
                for (Path src : sources) {
                    results.add(pool.submit(() -> compile(nvcc, src, arch)));
                }
            }
            // what a card newer than this compiler gets: PTX for the newest virtual architecture it knows
            String newest = KernelModule.virtualArch(
                    999,
                    archs.stream()
                            .mapToInt(a -> Integer.parseInt(a.substring(3)))
                            .toArray());
            for (Path src : sources) {
                results.add(pool.submit(() -> compile(nvcc, src, newest)));
            }
            List<String> failures = new ArrayList<>();
            List<String> spills = new ArrayList<>();
            for (Future<String> f : results) {
                String r = f.get(10, TimeUnit.MINUTES);
                if (r.startsWith("FAIL ")) {
                    failures.add(r);
                } else if (!r.isEmpty()) {
                    spills.add(r);
                }
            }
            assertTrue(failures.isEmpty(), String.join("\n", failures));
            System.out.println("kernel sources compile for " + archs + " and as PTX for " + newest
                    + (spills.isEmpty() ? ", no register spills" : "; spills: " + spills));
        } finally {
            pool.shutdownNow();
        }
    }

    /** "" when clean, a spill note, or "FAIL ..." with nvcc's output. */
    private String compile(Path nvcc, Path src, String arch) throws Exception {
        boolean ptx = arch.startsWith("compute_"); // PTX: no ptxas here, the driver compiles it on the card
        List<String> cmd = new ArrayList<>(
                ptx ? List.of(nvcc.toString(), "-ptx") : List.of(nvcc.toString(), "-cubin", "-Xptxas", "-v"));
        cmd.addAll(KernelModule.compileOptions(arch));
        String image = src.getFileName() + "." + arch + (ptx ? ".ptx" : ".cubin");
        cmd.addAll(List.of("-o", dir.resolve(image).toString(), src.toString()));
        String[] r = run(cmd, dir);
        String what = src.getFileName() + " for " + arch;
        if (!"0".equals(r[0])) {
            return "FAIL " + what + " (exit " + r[0] + "):\n" + r[1];
        }
        List<String> warnings = r[1].lines()
                .filter(l -> l.toLowerCase(java.util.Locale.ROOT).contains("warning"))
                .toList();
        if (!warnings.isEmpty()) {
            return "FAIL " + what + " warns:\n" + String.join("\n", warnings);
        }
        long spilled = 0;
        Matcher m = SPILLS.matcher(r[1]);
        while (m.find()) {
            spilled += Long.parseLong(m.group(1));
        }
        return spilled == 0 ? "" : what + ": " + spilled + " bytes";
    }
}
