package io.qsync.lowprec.train;

/**
 * A {@link Tensor} of {@link HostOps}: {@code length} floats of a Java array from {@code offset}.
 *
 * @param data   the backing array (shared by slices)
 * @param offset first element
 * @param len    number of elements
 */
public record HostTensor(float[] data, int offset, int len) implements Tensor {

    /** Checks the range. */
    public HostTensor {
        if (offset < 0 || len < 0 || (long) offset + len > data.length) {
            throw new IllegalArgumentException(
                    "slice [" + offset + ", " + ((long) offset + len) + ") of " + data.length);
        }
    }

    @Override
    public long length() {
        return len;
    }

    static HostTensor of(Tensor t) {
        if (t instanceof HostTensor h) {
            return h;
        }
        throw new IllegalArgumentException("not a host tensor: " + t);
    }
}
