package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudnn.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * One cuDNN handle on an engine's stream, the host-side scaling factors cuDNN reads ({@code alpha = 1},
 * {@code beta = 0}) and the temporaries its convolutions share (the workspace, the rounded output gradient of
 * TF32, FP16 and BF16 layers).
 * Shared temporaries only grow, at convolution set-up, never inside a pass; a replaced buffer stays allocated until
 * {@link #close}, since a recorded pass of another batch size may still name it.
 */
final class CudnnHandle implements AutoCloseable {
    private final cudnnContext handle = new cudnnContext();
    private final DeviceAllocator alloc;
    private final FloatPointer one = new FloatPointer(1f);
    private final FloatPointer zero = new FloatPointer(0f);
    private final Map<String, DeviceBuffer> shared = new HashMap<>();
    private final List<DeviceBuffer> retired = new ArrayList<>();
    private boolean created;

    /** Creates the handle and binds it to {@code stream}. */
    CudnnHandle(CudaStream stream, DeviceAllocator alloc) {
        this.alloc = alloc;
        check("cudnnCreate", cudnnCreate(handle));
        created = true;
        try {
            check("cudnnSetStream", cudnnSetStream(handle, stream.handle()));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Throws a {@link CudaException} naming {@code call} unless {@code rc} is {@code CUDNN_STATUS_SUCCESS}. */
    static void check(String call, int rc) {
        if (rc != CUDNN_STATUS_SUCCESS) {
            BytePointer s = cudnnGetErrorString(rc);
            throw new CudaException(
                    call + " failed: " + (s == null || s.isNull() ? "?" : s.getString()) + " (" + rc + ")", rc);
        }
    }

    cudnnContext handle() {
        return handle;
    }

    FloatPointer one() {
        return one;
    }

    FloatPointer zero() {
        return zero;
    }

    /** Makes the shared buffer {@code role} at least {@code bytes} long (set-up only: it may allocate). */
    void reserve(String role, long bytes) {
        DeviceBuffer b = shared.get(role);
        if (b == null || b.bytes() < bytes) {
            if (b != null) {
                retired.add(b);
            }
            shared.put(role, alloc.allocate("cuDNN " + role, Math.max(256, bytes)));
        }
    }

    /** The shared buffer {@code role} as reserved (never allocates). */
    DeviceBuffer shared(String role, long bytes) {
        DeviceBuffer b = shared.get(role);
        if (b == null || b.bytes() < bytes) {
            throw new IllegalStateException("cuDNN " + role + " of " + bytes + " bytes was not reserved");
        }
        return b;
    }

    @Override
    public void close() {
        shared.values().forEach(DeviceBuffer::close);
        shared.clear();
        retired.forEach(DeviceBuffer::close);
        retired.clear();
        if (created) {
            created = false;
            check("cudnnDestroy", cudnnDestroy(handle));
        }
        one.close();
        zero.close();
    }
}
