package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.cudaEventCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaEventDestroy;
import static org.bytedeco.cuda.global.cudart.cudaEventDisableTiming;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaFreeHost;
import static org.bytedeco.cuda.global.cudart.cudaMallocHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;

import io.qsync.lowprec.train.TensorOps;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Copies between host and device for {@link CudaTensorOps}: page-locked host buffers (freed on {@link #close}),
 * copies on the compute stream that return once complete (so a caller may reuse its buffer at once), and the copies
 * that run behind the compute stream ({@link BehindCopies}).
 */
final class HostTransfers implements AutoCloseable {
    /** {@code -Dqsync.cuda.copyBehind}: {@code true} (default), {@code stream} or {@code false}. */
    private static final String COPY_BEHIND =
            System.getProperty("qsync.cuda.copyBehind", "true").toLowerCase(java.util.Locale.ROOT);

    private final CudaStream stream;
    private final BehindCopies behind;
    private final List<Pointer> pinned = new ArrayList<>();
    private final ArrayDeque<CUevent_st> events = new ArrayDeque<>();
    private final List<CUevent_st> allEvents = new ArrayList<>();

    HostTransfers(CudaStream stream) {
        this.stream = stream;
        this.behind = new BehindCopies(stream);
    }

    BehindCopies behind() {
        return behind;
    }

    /** {@link TensorOps#downloadBehind} after {@code -Dqsync.cuda.copyBehind} ({@link CudaTensorOps#downloadBehind}). */
    TensorOps.Mark downloadBehind(CudaTensor src, FloatBuffer dst) {
        if ("false".equals(COPY_BEHIND)) {
            copy(dst, src, false);
            return () -> {};
        }
        return behind.copy(src, dst, !"stream".equals(COPY_BEHIND));
    }

    /** A page-locked buffer of {@code length} floats. */
    FloatBuffer hostBuffer(String what, long length) {
        if (length * 4 > Integer.MAX_VALUE) {
            // a Java buffer holds at most 2 GiB: say so before the pinned allocation, not with an overflow later
            throw new DeviceCapacityException("host staging buffer '" + what + "' needs " + length * 4
                    + " bytes, more than the 2 GiB a Java buffer holds");
        }
        Pointer p = new Pointer();
        Check.cuda(
                "cudaMallocHost(" + what + ", " + length * 4 + " bytes)", cudaMallocHost(p, Math.max(4, length * 4)));
        pinned.add(p);
        return new BytePointer(p)
                .capacity(length * 4)
                .asByteBuffer()
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
    }

    /** Copies {@code dev.length()} floats between {@code host} (from its position) and {@code dev}, and waits. */
    void copy(FloatBuffer host, CudaTensor dev, boolean up) {
        long n = dev.length();
        if (host.remaining() < n) {
            throw new IllegalArgumentException("host buffer has " + host.remaining() + " floats, " + n + " needed");
        }
        // a direct buffer is sliced at its position so that the pointer starts there (no JavaCPP position involved)
        FloatPointer hp = host.isDirect() ? new FloatPointer(host.slice()) : new FloatPointer(n);
        if (!host.isDirect() && up) {
            FloatBuffer part = host.duplicate();
            part.limit(part.position() + (int) n);
            hp.asBuffer().put(part);
        }
        DeviceBuffer d = dev.buffer();
        int rc = up
                ? cudaMemcpyAsync(d.pointer(), hp, n * 4, cudaMemcpyHostToDevice, stream.handle())
                : cudaMemcpyAsync(hp, d.pointer(), n * 4, cudaMemcpyDeviceToHost, stream.handle());
        Check.cuda("cudaMemcpyAsync(" + (up ? "H2D " : "D2H ") + d.name() + ", " + n * 4 + " bytes)", rc);
        stream.synchronize(up ? "upload" : "download");
        if (!host.isDirect() && !up) {
            FloatBuffer out = hp.asBuffer();
            out.limit((int) n);
            host.duplicate().put(out);
        }
    }

    /**
     * Queues the copy of {@code dev.length()} floats from {@code host} (a page-locked {@link #hostBuffer}, from its
     * position) into {@code dev} on the compute stream and returns at once; the mark waits until the copy has read
     * {@code host}. A heap buffer is copied as {@link #copy} does (complete on return).
     */
    TensorOps.Mark uploadQueued(FloatBuffer host, CudaTensor dev) {
        if (!host.isDirect()) {
            copy(host, dev, true);
            return () -> {};
        }
        long n = dev.length();
        if (host.remaining() < n) {
            throw new IllegalArgumentException("host buffer has " + host.remaining() + " floats, " + n + " needed");
        }
        DeviceBuffer d = dev.buffer();
        Check.cuda(
                "cudaMemcpyAsync(H2D queued " + d.name() + ", " + n * 4 + " bytes)",
                cudaMemcpyAsync(
                        d.pointer(), new FloatPointer(host.slice()), n * 4, cudaMemcpyHostToDevice, stream.handle()));
        CUevent_st done = events.isEmpty() ? newEvent() : events.poll();
        Check.cuda("cudaEventRecord(upload done)", cudaEventRecord(done, stream.handle()));
        return new EventMark(done, "upload", events::add);
    }

    private CUevent_st newEvent() {
        CUevent_st e = new CUevent_st();
        Check.cuda("cudaEventCreateWithFlags", cudaEventCreateWithFlags(e, cudaEventDisableTiming));
        allEvents.add(e);
        return e;
    }

    @Override
    public void close() {
        allEvents.forEach(e -> cudaEventDestroy(e));
        allEvents.clear();
        events.clear();
        behind.close();
        for (Pointer p : pinned) {
            cudaFreeHost(p);
        }
        pinned.clear();
    }
}
