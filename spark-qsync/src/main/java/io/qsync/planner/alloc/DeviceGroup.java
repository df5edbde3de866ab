package io.qsync.planner.alloc;

import io.qsync.planner.cost.DeviceProfile;

/**
 * A device type in the request: {@code count} workers of {@code device}, each computing {@code batch} examples.
 *
 * @param name   label (unique in the request)
 * @param device profile
 * @param count  workers
 * @param batch  examples per worker per step
 */
public record DeviceGroup(String name, DeviceProfile device, int count, int batch) {
    /** Checks the values. */
    public DeviceGroup {
        if (count < 0 || batch <= 0) {
            throw new IllegalArgumentException("Device type " + name + " needs count >= 0 and batch >= 1, got count "
                    + count + ", batch " + batch);
        }
    }
}
