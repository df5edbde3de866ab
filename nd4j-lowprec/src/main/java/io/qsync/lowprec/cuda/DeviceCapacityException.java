package io.qsync.lowprec.cuda;

/**
 * A request the device path cannot hold, refused before any allocation or launch: a tensor over
 * {@link CudaTensorOps#MAX_ELEMENTS} elements, or a host staging buffer over the 2 GiB a Java buffer holds. Like a
 * {@link CudaException} with {@link CudaException#outOfMemory()}, it means "use a smaller batch", not "broken".
 */
public final class DeviceCapacityException extends IllegalStateException {
    /** @param message what was asked for and the limit it exceeds */
    public DeviceCapacityException(String message) {
        super(message);
    }
}
