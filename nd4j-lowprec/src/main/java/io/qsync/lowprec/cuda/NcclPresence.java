package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.nccl.ncclGetVersion;

import org.bytedeco.javacpp.Loader;

/**
 * Whether NCCL can run in this process: a CUDA device ({@link CudaPresence}) and {@code libnccl.so.2} loadable by the
 * JavaCPP presets. NCCL is not part of the CUDA toolkit; on the GPU machines it comes with PyTorch (the Python package
 * {@code nvidia.nccl}), so its {@code lib} directory must be on {@code LD_LIBRARY_PATH} when the JVM starts.
 */
public final class NcclPresence {
    private static String why;
    private static boolean checked;

    private NcclPresence() {}

    /** @return a sentence saying why NCCL cannot run here, or null when it can (cached after the first call) */
    public static synchronized String whyUnavailable() {
        if (!checked) {
            why = check();
            checked = true;
        }
        return why;
    }

    /** @return NCCL's version code (e.g. 22903 for 2.29.3); NCCL must be available */
    public static int version() {
        int[] v = new int[1];
        NcclCalls.check("ncclGetVersion", ncclGetVersion(v));
        return v[0];
    }

    private static String check() {
        String cuda = CudaPresence.whyUnavailable();
        if (cuda != null) {
            return cuda;
        }
        try {
            Loader.load(org.bytedeco.cuda.global.nccl.class);
        } catch (Throwable e) { // UnsatisfiedLinkError, or NoClassDefFoundError after a failed static initializer
            return "libnccl.so.2 cannot be loaded (" + e.getMessage() + "); NCCL checks skipped: put NCCL's lib "
                    + "directory on LD_LIBRARY_PATH (e.g. python3 -c \"import nvidia.nccl, os; "
                    + "print(os.path.join(os.path.dirname(nvidia.nccl.__file__), 'lib'))\")";
        }
        try {
            int n = CudaDevice.count();
            return n >= 1 ? null : "NCCL loads but no CUDA device is visible (cudaGetDeviceCount = 0)";
        } catch (Throwable e) {
            return "NCCL loads but the CUDA runtime does not (" + e + ")";
        }
    }
}
