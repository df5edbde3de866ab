package io.qsync.lowprec.cuda;

import static org.bytedeco.cuda.global.cudart.*;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;

/**
 * Device memory from a {@link DeviceAllocator}. Copies here are synchronous (cudaMemcpy), for setting up inputs and
 * reading results; the ops enqueue asynchronously on a {@link CudaStream}.
 */
public final class DeviceBuffer implements AutoCloseable {
    private static final boolean GUARD_FREES = Boolean.getBoolean("qsync.cuda.guardFrees");

    private final DeviceAllocator owner;
    private final String name;
    private final Pointer ptr;
    private final long bytes;
    private boolean closed;

    DeviceBuffer(DeviceAllocator owner, String name, Pointer ptr, long bytes) {
        this.owner = owner;
        this.name = name;
        this.ptr = ptr;
        this.bytes = bytes;
    }

    /** @return the device pointer (do not use after {@link #close()}) */
    public Pointer pointer() {
        if (closed) {
            throw new IllegalStateException("buffer " + name + " is closed");
        }
        return ptr;
    }

    /** @return size in bytes */
    public long bytes() {
        return bytes;
    }

    /** @return the buffer's name */
    public String name() {
        return name;
    }

    /** Fills every byte with {@code value} (cudaMemset): used to poison outputs before a check. */
    public void fill(int value) {
        Check.cuda("cudaMemsetAsync(" + name + ")", cudaMemsetAsync(pointer(), value, bytes));
        Check.cuda("cudaDeviceSynchronize after memset", cudaDeviceSynchronize());
    }

    /** Enqueues a fill on {@code s}. */
    public void fillAsync(int value, CudaStream s) {
        Check.cuda("cudaMemsetAsync(" + name + ")", cudaMemsetAsync(pointer(), value, bytes, s.handle()));
    }

    /** Copies {@code src} to the start of this buffer. */
    public void upload(float[] src) {
        try (FloatPointer h = new FloatPointer(src)) {
            put(h, 4L * src.length);
        }
    }

    /** Copies {@code src} to the start of this buffer. */
    public void upload(byte[] src) {
        try (BytePointer h = new BytePointer(src)) {
            put(h, src.length);
        }
    }

    /** Copies {@code src} to the start of this buffer. */
    public void upload(short[] src) {
        try (ShortPointer h = new ShortPointer(src)) {
            put(h, 2L * src.length);
        }
    }

    /** @return the first {@code n} floats */
    public float[] downloadFloats(int n) {
        float[] out = new float[n];
        try (FloatPointer h = new FloatPointer(n)) {
            get(h, 4L * n);
            h.get(out);
        }
        return out;
    }

    /** @return the first {@code n} int32s */
    public int[] downloadInts(int n) {
        int[] out = new int[n];
        try (IntPointer h = new IntPointer(n)) {
            get(h, 4L * n);
            h.get(out);
        }
        return out;
    }

    /** @return the first {@code n} 16-bit words */
    public short[] downloadShorts(int n) {
        short[] out = new short[n];
        try (ShortPointer h = new ShortPointer(n)) {
            get(h, 2L * n);
            h.get(out);
        }
        return out;
    }

    /** @return the first {@code n} bytes */
    public byte[] downloadBytes(int n) {
        byte[] out = new byte[n];
        try (BytePointer h = new BytePointer(n)) {
            get(h, n);
            h.get(out);
        }
        return out;
    }

    private void put(Pointer h, long n) {
        check(n);
        Check.cuda(
                "cudaMemcpy(H2D " + name + ", " + n + " bytes)", cudaMemcpy(pointer(), h, n, cudaMemcpyHostToDevice));
    }

    private void get(Pointer h, long n) {
        check(n);
        Check.cuda(
                "cudaMemcpy(D2H " + name + ", " + n + " bytes)", cudaMemcpy(h, pointer(), n, cudaMemcpyDeviceToHost));
    }

    private void check(long n) {
        if (n > bytes) {
            throw new IllegalArgumentException(
                    "buffer " + name + " holds " + bytes + " bytes, copy of " + n + " asked");
        }
    }

    /** Enqueues a device-to-device copy of {@code n} bytes from {@code src}. */
    public void copyFrom(DeviceBuffer src, long n, CudaStream s) {
        check(n);
        Check.cuda(
                "cudaMemcpyAsync(D2D " + src.name + " -> " + name + ")",
                cudaMemcpyAsync(pointer(), src.pointer(), n, cudaMemcpyDeviceToDevice, s.handle()));
    }

    /** Frees the memory and returns its bytes to the allocator. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (GUARD_FREES && owner.recorded()) {
            throw new IllegalStateException("device buffer " + name + " freed while a recorded pass that may use it is "
                    + "alive (-Dqsync.cuda.guardFrees=true)");
        }
        closed = true;
        int rc = cudaFree(ptr);
        owner.freed(this);
        Check.cuda("cudaFree(" + name + ")", rc);
    }
}
