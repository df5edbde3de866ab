package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cublas.cublasLtGetStatusString;
import static org.bytedeco.cuda.global.cudart.cuGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.nvml.nvmlErrorString;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetErrorString;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/** Turns status codes of the CUDA libraries into {@link CudaException}s that name the call. */
final class Check {
    private Check() {}

    static void cuda(String call, int rc) {
        if (rc != 0) {
            throw new CudaException(call + " failed: " + str(cudaGetErrorString(rc)) + " (" + rc + ")", rc);
        }
    }

    static void driver(String call, int rc) {
        if (rc != 0) {
            String s;
            try (PointerPointer<BytePointer> pp = new PointerPointer<>(1)) {
                s = cuGetErrorString(rc, pp) == 0 && pp.get(0) != null
                        ? new BytePointer(pp.get(0)).getString()
                        : "CUresult";
            }
            throw new CudaException(call + " failed: " + s + " (" + rc + ")", rc);
        }
    }

    static void blas(String call, int rc) {
        if (rc != 0) {
            throw new CudaException(call + " failed: " + str(cublasLtGetStatusString(rc)) + " (" + rc + ")", rc);
        }
    }

    static void nvrtc(String call, int rc) {
        if (rc != 0) {
            throw new CudaException(call + " failed: " + str(nvrtcGetErrorString(rc)) + " (" + rc + ")", rc);
        }
    }

    static void nvml(String call, int rc) {
        if (rc != 0) {
            throw new CudaException(call + " failed: " + str(nvmlErrorString(rc)) + " (" + rc + ")", rc);
        }
    }

    private static String str(BytePointer p) {
        return p == null || p.isNull() ? "?" : p.getString();
    }
}
