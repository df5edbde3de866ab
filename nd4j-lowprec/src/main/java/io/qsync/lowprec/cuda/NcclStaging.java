package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaFreeHost;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMallocHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A page-locked host buffer and a device buffer of the same size, grown (never shrunk) to the largest transfer asked,
 * with asynchronous copies between them on an {@link NcclGroup}'s stream: how {@link NcclHostCollectives} moves host
 * floats and bytes to the device and back.
 */
final class NcclStaging implements AutoCloseable {
    private final String name;
    private Pointer host;
    private Pointer device;
    private ByteBuffer hostView;
    private long capacity;

    NcclStaging(String name) {
        this.name = name;
    }

    /**
     * @param bytes the size needed
     * @return the host buffer (native order), position 0, limit {@code bytes}
     */
    ByteBuffer host(long bytes) {
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + ": " + bytes + " bytes is more than one transfer of 2 GiB");
        }
        if (bytes > capacity || host == null) {
            free();
            long cap = Math.max(4096, Math.min(Integer.MAX_VALUE, Math.max(bytes, capacity * 2)));
            Pointer h = new Pointer();
            Check.cuda("cudaMallocHost(" + name + ", " + cap + " bytes)", cudaMallocHost(h, cap));
            host = h;
            Pointer d = new Pointer();
            Check.cuda("cudaMalloc(" + name + ", " + cap + " bytes)", cudaMalloc(d, cap));
            device = d;
            capacity = cap;
            hostView = new BytePointer(h).capacity(cap).asByteBuffer().order(ByteOrder.nativeOrder());
        }
        return hostView.clear().limit((int) bytes);
    }

    /** @return the device buffer (valid until the next {@link #host} call that grows it) */
    Pointer device() {
        return device;
    }

    /** Enqueues a copy of the first {@code bytes} host bytes to the device on the group's stream. */
    void upload(NcclGroup group, long bytes) {
        copy(group, bytes, true);
    }

    /** Enqueues a copy of the first {@code bytes} device bytes to the host on the group's stream. */
    void download(NcclGroup group, long bytes) {
        copy(group, bytes, false);
    }

    private void copy(NcclGroup group, long bytes, boolean up) {
        group.makeCurrent();
        Check.cuda(
                "cudaMemcpyAsync(" + (up ? "H2D " : "D2H ") + name + ", " + bytes + " bytes)",
                up
                        ? cudaMemcpyAsync(
                                device,
                                host,
                                bytes,
                                cudaMemcpyHostToDevice,
                                group.stream().handle())
                        : cudaMemcpyAsync(
                                host,
                                device,
                                bytes,
                                cudaMemcpyDeviceToHost,
                                group.stream().handle()));
    }

    private void free() {
        if (host != null) {
            cudaFreeHost(host);
            host = null;
        }
        if (device != null) {
            cudaFree(device);
            device = null;
        }
        hostView = null;
        capacity = 0;
    }

    /** Frees both buffers (the group's stream must be idle). Idempotent. */
    @Override
    public void close() {
        free();
    }
}
