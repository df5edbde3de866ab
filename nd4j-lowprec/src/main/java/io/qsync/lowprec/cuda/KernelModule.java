package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.*;
import static org.bytedeco.cuda.global.nvrtc.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * CUDA C source compiled at run time by NVRTC to a CUBIN for the device's own architecture ({@code -arch=sm_XY}),
 * loaded with the driver API; kernels are launched by name with typed arguments. A card newer than this NVRTC gets PTX
 * for the newest virtual architecture NVRTC knows ({@link #virtualArch}), which the driver compiles for the card.
 */
public final class KernelModule implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KernelModule.class);
    private final CUmod_st module = new CUmod_st();
    private final Map<String, CUfunc_st> functions = new HashMap<>();
    private final String log;

    /**
     * @param name    source name for messages
     * @param source  CUDA C source ({@code extern "C"} kernels)
     * @param facts   device the CUBIN is for
     * @param options extra NVRTC options
     */
    public KernelModule(String name, String source, DeviceFacts facts, String... options) {
        String compileLog;
        try {
            compileLog = build(name, source, facts.arch(), options);
        } catch (CudaException e) {
            // a card newer than this NVRTC: PTX for the newest virtual architecture it knows, which the driver compiles
            String virtual = virtualArch(facts.ccMajor() * 10 + facts.ccMinor(), supportedArchs());
            if (virtual == null) {
                throw e;
            }
            LOG.warn(
                    "NVRTC cannot compile {} for {} ({}); loading PTX for {} instead",
                    name,
                    facts.arch(),
                    e.getMessage().lines().findFirst().orElse(""),
                    virtual);
            compileLog = build(name, source, virtual, options);
        }
        log = compileLog;
    }

    /** Compiles for {@code arch} ({@code sm_XY}: CUBIN; {@code compute_XY}: PTX) and loads it; returns the log. */
    private String build(String name, String source, String arch, String[] options) {
        _nvrtcProgram prog = new _nvrtcProgram();
        Check.nvrtc(
                "nvrtcCreateProgram(" + name + ")",
                nvrtcCreateProgram(
                        prog, new BytePointer(source), new BytePointer(name), 0, (PointerPointer) null, (PointerPointer)
                                null));
        try {
            List<String> opts = new ArrayList<>(compileOptions(arch));
            opts.addAll(List.of(options));
            PointerPointer<BytePointer> po = new PointerPointer<>(opts.toArray(new String[0]));
            int rc = nvrtcCompileProgram(prog, opts.size(), po);
            String compileLog = programLog(prog);
            if (rc != 0) {
                throw new CudaException(
                        "nvrtcCompileProgram(" + name + ", " + opts + ") failed: "
                                + nvrtcGetErrorString(rc).getString() + "\n" + compileLog,
                        rc);
            }
            SizeTPointer size = new SizeTPointer(1);
            BytePointer image;
            if (arch.startsWith("compute_")) {
                Check.nvrtc("nvrtcGetPTXSize(" + name + ")", nvrtcGetPTXSize(prog, size));
                image = new BytePointer(size.get());
                Check.nvrtc("nvrtcGetPTX(" + name + ")", nvrtcGetPTX(prog, image));
            } else {
                Check.nvrtc("nvrtcGetCUBINSize(" + name + ")", nvrtcGetCUBINSize(prog, size));
                image = new BytePointer(size.get());
                Check.nvrtc("nvrtcGetCUBIN(" + name + ")", nvrtcGetCUBIN(prog, image));
            }
            Check.driver("cuModuleLoadData(" + name + ")", cuModuleLoadData(module, image));
            return compileLog;
        } finally {
            nvrtcDestroyProgram(prog);
        }
    }

    /**
     * The virtual architecture to compile PTX for when NVRTC does not know the card's own: the newest one it supports
     * that is not newer than the card ({@code compute_XY}); null when it supports the card's architecture (the failure
     * was something else) or none below it.
     *
     * @param cc        the card's compute capability times ten (e.g. 90)
     * @param supported the architectures this NVRTC compiles for ({@code nvrtcGetSupportedArchs}), times ten
     */
    static String virtualArch(int cc, int[] supported) {
        int best = -1;
        for (int a : supported) {
            if (a == cc) {
                return null;
            }
            if (a < cc && a > best) {
                best = a;
            }
        }
        return best < 0 ? null : "compute_" + best;
    }

    private static int[] supportedArchs() {
        try {
            int[] n = new int[1];
            if (nvrtcGetNumSupportedArchs(n) != 0 || n[0] <= 0) {
                return new int[0];
            }
            int[] archs = new int[n[0]];
            return nvrtcGetSupportedArchs(archs) == 0 ? archs : new int[0];
        } catch (RuntimeException | LinkageError e) {
            return new int[0];
        }
    }

    /**
     * The options every module is compiled with for {@code arch} (also what {@code KernelSourcesCompileTest} hands
     * nvcc, so that the sources are checked here for every architecture CUDA 13 targets).
     */
    static List<String> compileOptions(String arch) {
        return List.of("-arch=" + arch, "-std=c++17");
    }

    private static String programLog(_nvrtcProgram prog) {
        SizeTPointer n = new SizeTPointer(1);
        if (nvrtcGetProgramLogSize(prog, n) != 0 || n.get() <= 1) {
            return "";
        }
        BytePointer b = new BytePointer(n.get());
        nvrtcGetProgramLog(prog, b);
        return b.getString();
    }

    /**
     * @param resource name of a {@code .cu} file next to this class on the class path
     * @return its text
     */
    public static String resourceText(String resource) {
        try (java.io.InputStream in = KernelModule.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("resource io/qsync/lowprec/cuda/" + resource + " missing");
            }
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return NVRTC's compile log (warnings), possibly empty */
    public String compileLog() {
        return log;
    }

    private CUfunc_st function(String kernel) {
        return functions.computeIfAbsent(kernel, k -> {
            CUfunc_st f = new CUfunc_st();
            Check.driver("cuModuleGetFunction(" + k + ")", cuModuleGetFunction(f, module, k));
            return f;
        });
    }

    /**
     * Launches {@code kernel} on a 1-D grid.
     *
     * @param kernel  name
     * @param grid    blocks
     * @param block   threads per block
     * @param shared  dynamic shared memory bytes
     * @param stream  stream
     * @param args    {@link DeviceBuffer} (its pointer; null for a null pointer is not allowed, use
     *                {@link #NULL}), {@link Integer}, {@link Long}, {@link Float}, {@link Double}
     */
    public void launch(String kernel, long grid, int block, int shared, CudaStream stream, Object... args) {
        launch3(kernel, grid, 1, block, shared, stream, args);
    }

    /** Like {@link #launch} with a 2-D grid {@code (gridX, gridY)}. */
    public void launch3(
            String kernel, long gridX, long gridY, int block, int shared, CudaStream stream, Object... args) {
        if (gridX <= 0 || gridX > Integer.MAX_VALUE || gridY <= 0 || gridY > 65535) {
            throw new IllegalArgumentException(kernel + ": bad grid " + gridX + "x" + gridY);
        }
        List<Pointer> keep = new ArrayList<>();
        PointerPointer<Pointer> argv = new PointerPointer<>(args.length);
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            Pointer holder;
            if (a instanceof DeviceBuffer) {
                PointerPointer<Pointer> pp = new PointerPointer<>(1);
                pp.put(0, ((DeviceBuffer) a).pointer());
                holder = pp;
            } else if (a == NULL) {
                PointerPointer<Pointer> pp = new PointerPointer<>(1);
                pp.put(0, (Pointer) null);
                holder = pp;
            } else if (a instanceof Integer) {
                holder = new IntPointer(1).put((Integer) a);
            } else if (a instanceof Long) {
                holder = new LongPointer(1).put((Long) a);
            } else if (a instanceof Float) {
                holder = new FloatPointer(1).put((Float) a);
            } else if (a instanceof Double) {
                holder = new org.bytedeco.javacpp.DoublePointer(1).put((Double) a);
            } else {
                throw new IllegalArgumentException(kernel + ": unsupported argument " + i + ": " + a);
            }
            keep.add(holder);
            argv.put(i, holder);
        }
        int rc = cuLaunchKernel(
                function(kernel),
                (int) gridX,
                (int) gridY,
                1,
                block,
                1,
                1,
                shared,
                stream.handle(),
                argv,
                (PointerPointer) null);
        Check.driver("cuLaunchKernel(" + kernel + ", grid " + gridX + "x" + gridY + ", block " + block + ")", rc);
        for (Pointer p : keep) {
            p.close();
        }
        argv.close();
    }

    /** Marker for a null device-pointer argument. */
    public static final Object NULL = new Object();

    @Override
    public void close() {
        cuModuleUnload(module);
    }
}
