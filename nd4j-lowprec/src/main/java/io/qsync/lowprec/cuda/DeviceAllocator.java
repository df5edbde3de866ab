package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.cudaMalloc;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;

/**
 * A named device-memory budget in the style of Arrow's allocators: {@link #allocate} fails with a clear message
 * instead of exceeding {@link #limitBytes()}, children take their bytes from the parent's budget, and
 * {@link #close()} fails when buffers are still open (a leak), naming them.
 */
public final class DeviceAllocator implements AutoCloseable {
    private final String name;
    private final long limit;
    private final DeviceAllocator parent;
    private final Map<DeviceBuffer, String> live = new LinkedHashMap<>();
    private final Map<DeviceAllocator, String> children = new LinkedHashMap<>();
    private long allocated;
    private long peak;
    private boolean closed;
    private int recordings;

    /**
     * Root allocator.
     *
     * @param name       name used in messages
     * @param limitBytes largest total of live buffers
     */
    public DeviceAllocator(String name, long limitBytes) {
        this(name, limitBytes, null);
    }

    private DeviceAllocator(String name, long limitBytes, DeviceAllocator parent) {
        this.name = name;
        this.limit = limitBytes;
        this.parent = parent;
    }

    /**
     * A recorded pass (CUDA graph) that may hold the addresses of this allocator's buffers is now alive ({@code +1})
     * or freed ({@code -1}). While one is alive, freeing a buffer of this allocator or its children is a hazard:
     * replaying the recording would write to freed memory (CUDA error 700). With {@code -Dqsync.cuda.guardFrees=true}
     * such a free fails at once, naming the buffer (a diagnostic for the CUDA engine).
     */
    public synchronized void recordingsAlive(int delta) {
        recordings += delta;
    }

    /** Whether a recording is alive on this allocator or a parent. */
    synchronized boolean recorded() {
        return recordings > 0 || parent != null && parent.recorded();
    }

    /**
     * @param childName  name of the child (e.g. a layer)
     * @param limitBytes the child's own limit (its bytes also count against this allocator)
     * @return a child allocator
     */
    public synchronized DeviceAllocator child(String childName, long limitBytes) {
        DeviceAllocator c = new DeviceAllocator(name + "/" + childName, limitBytes, this);
        children.put(c, childName);
        return c;
    }

    /**
     * @param what  name of the buffer (for leak reports and errors)
     * @param bytes size
     * @return a new device buffer (contents undefined)
     */
    public DeviceBuffer allocate(String what, long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("buffer " + what + ": size must be positive, got " + bytes);
        }
        reserve(what, bytes);
        Pointer p = new Pointer();
        int rc = cudaMalloc(p, bytes);
        if (rc != 0) {
            release(bytes);
            Check.cuda("cudaMalloc(" + name + ":" + what + ", " + bytes + " bytes)", rc);
        }
        DeviceBuffer b = new DeviceBuffer(this, what, p, bytes);
        synchronized (this) {
            live.put(b, what);
        }
        return b;
    }

    private synchronized void reserve(String what, long bytes) {
        if (closed) {
            throw new IllegalStateException("allocator " + name + " is closed");
        }
        if (allocated + bytes > limit) {
            throw new CudaException(
                    "allocator " + name + ": " + what + " needs " + bytes + " bytes, " + allocated + " of " + limit
                            + " in use",
                    CudaException.OUT_OF_MEMORY);
        }
        if (parent != null) {
            parent.reserve(name + ":" + what, bytes);
        }
        allocated += bytes;
        peak = Math.max(peak, allocated);
    }

    private synchronized void release(long bytes) {
        allocated -= bytes;
        if (parent != null) {
            parent.release(bytes);
        }
    }

    synchronized void freed(DeviceBuffer b) {
        live.remove(b);
        release(b.bytes());
    }

    /** @return bytes in live buffers (children included) */
    public synchronized long allocatedBytes() {
        return allocated;
    }

    /** @return the highest {@link #allocatedBytes()} seen */
    public synchronized long peakBytes() {
        return peak;
    }

    /** @return the budget */
    public long limitBytes() {
        return limit;
    }

    /** @return the allocator's name */
    public String name() {
        return name;
    }

    /** Closes the allocator; throws {@link IllegalStateException} naming leaked buffers or open children. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (parent != null) {
            synchronized (parent) {
                parent.children.remove(this);
            }
        }
        if (!live.isEmpty() || !children.isEmpty()) {
            throw new IllegalStateException("allocator " + name + " closed with " + live.size() + " live buffer(s) "
                    + live.values() + " and open children " + children.values() + " (" + allocated + " bytes leaked)");
        }
    }
}
