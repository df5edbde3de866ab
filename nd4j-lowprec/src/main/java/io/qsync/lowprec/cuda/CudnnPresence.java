package io.qsync.lowprec.cuda;

import org.bytedeco.javacpp.Loader;

/**
 * Whether cuDNN can run in this process: a CUDA device ({@link CudaPresence}) and the JavaCPP presets' cuDNN binding
 * loadable, which needs cuDNN 9 ({@code libcudnn.so.9} and its {@code _ops}, {@code _cnn}, {@code _adv},
 * {@code _graph} parts) on the library path. cuDNN is not part of the CUDA toolkit; on the GPU machines it comes with
 * PyTorch (the Python package {@code nvidia.cudnn}), so its {@code lib} directory must be on {@code LD_LIBRARY_PATH}
 * when the JVM starts. Without it the CUDA engine runs convolutions as im2col + GEMM.
 */
public final class CudnnPresence {
    private static String why;
    private static long version;
    private static boolean checked;

    private CudnnPresence() {}

    /** @return a sentence saying why cuDNN cannot run here, or null when it can (cached after the first call) */
    public static synchronized String whyUnavailable() {
        if (!checked) {
            why = check();
            checked = true;
        }
        return why;
    }

    /** @return cuDNN's version code (e.g. 91002 for 9.10.2), or 0 when cuDNN is unavailable */
    public static synchronized long version() {
        return whyUnavailable() == null ? version : 0;
    }

    private static String check() {
        String cuda = CudaPresence.whyUnavailable();
        if (cuda != null) {
            return cuda;
        }
        try {
            Loader.load(org.bytedeco.cuda.global.cudnn.class);
            version = org.bytedeco.cuda.global.cudnn.cudnnGetVersion();
        } catch (Throwable e) { // UnsatisfiedLinkError, or NoClassDefFoundError after a failed static initializer
            return "cuDNN cannot be loaded (" + e.getMessage() + "): put cuDNN 9's lib directory on LD_LIBRARY_PATH "
                    + "(e.g. python3 -c \"import nvidia.cudnn, os; "
                    + "print(os.path.join(list(nvidia.cudnn.__path__)[0], 'lib'))\")";
        }
        if (version < 90000) {
            return "cuDNN " + version + " loaded, but the presets need cuDNN 9";
        }
        return null;
    }
}
