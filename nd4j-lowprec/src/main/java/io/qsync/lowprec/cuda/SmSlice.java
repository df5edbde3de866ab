package io.qsync.lowprec.cuda;

/**
 * SM counts of green-context slices, in plain Java (no CUDA call): the driver hands out SMs in groups whose minimum
 * size and granularity depend on the architecture (compute capability 9.x: multiples of 8; 8.x: multiples of 2, at
 * least 4; older: multiples of 2), so a share of the device rounds down to that granularity.
 */
public final class SmSlice {
    private SmSlice() {}

    /**
     * @param totalSms the device's streaming multiprocessors
     * @param ccMajor  compute capability, major
     * @return SMs per group the driver allocates together
     */
    public static int granularity(int totalSms, int ccMajor) {
        return ccMajor >= 9 ? 8 : 2;
    }

    /**
     * @param totalSms the device's streaming multiprocessors
     * @param ccMajor  compute capability, major
     * @return the smallest group the driver creates
     */
    public static int minimum(int totalSms, int ccMajor) {
        return ccMajor >= 9 ? 8 : ccMajor == 8 ? 4 : 2;
    }

    /**
     * @param totalSms the device's streaming multiprocessors
     * @param ccMajor  compute capability, major
     * @param share    share of the device in (0, 1]
     * @return SMs of a slice holding about {@code share} of the device: rounded down to the granularity, at least the
     *     minimum group, at most all SMs (a share of 1 is the whole device)
     */
    public static int smCount(int totalSms, int ccMajor, double share) {
        return smCount(totalSms, granularity(totalSms, ccMajor), minimum(totalSms, ccMajor), share);
    }

    /**
     * @param totalSms    the device's streaming multiprocessors
     * @param granularity SMs the driver allocates together (CUDA 13 reports it as the SM resource's
     *                    {@code smCoscheduledAlignment})
     * @param minimum     the smallest group ({@code minSmPartitionSize})
     * @param share       share of the device in (0, 1]
     * @return SMs of a slice holding about {@code share} of the device
     */
    public static int smCount(int totalSms, int granularity, int minimum, double share) {
        if (!(share > 0 && share <= 1)) {
            throw new IllegalArgumentException("an SM share must be in (0, 1], got " + share);
        }
        if (share == 1) {
            return totalSms;
        }
        int g = Math.max(1, granularity);
        int n = (int) Math.floor(totalSms * share / g) * g;
        return Math.min(totalSms, Math.max(Math.max(1, minimum), n));
    }
}
