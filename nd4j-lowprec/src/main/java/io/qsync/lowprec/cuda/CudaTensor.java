package io.qsync.lowprec.cuda;

import io.qsync.lowprec.train.Tensor;
import org.bytedeco.javacpp.Pointer;

/**
 * A {@link Tensor} of {@link CudaTensorOps}: {@code length} floats of device memory, viewed as a
 * {@link DeviceBuffer} (a slice of an allocation; only the allocation itself is ever freed).
 *
 * @param buffer the floats as a device buffer (a view for slices)
 * @param length number of floats
 */
public record CudaTensor(DeviceBuffer buffer, long length) implements Tensor {

    /** A view of {@code length} floats from float {@code offset} of {@code base}. */
    static CudaTensor view(CudaTensor base, long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > base.length) {
            throw new IllegalArgumentException("slice [" + offset + ", " + (offset + length) + ") of " + base.length);
        }
        Pointer p = new OffsetPointer(base.buffer.pointer(), offset * 4);
        return new CudaTensor(
                new DeviceBuffer(
                        null, base.buffer.name() + "[" + offset + "+" + length + "]", p, Math.max(4, length * 4)),
                length);
    }

    static CudaTensor of(Tensor t) {
        if (t instanceof CudaTensor c) {
            return c;
        }
        throw new IllegalArgumentException("not a CUDA tensor: " + t);
    }

    /** A device address {@code bytes} past another (no position arithmetic left to JavaCPP). */
    private static final class OffsetPointer extends Pointer {
        OffsetPointer(Pointer base, long bytes) {
            super((Pointer) null);
            address = base.address() + base.position() + bytes;
            position = 0;
            limit = 0;
            capacity = 0;
        }
    }
}
