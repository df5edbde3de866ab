package io.qsync.lowprec.cuda;

/**
 * What cudart and NVML report about one device.
 *
 * @param ordinal        CUDA device ordinal (as Spark's GPU resource addresses give it)
 * @param name           device name (cudart; NVML's name when available)
 * @param ccMajor        compute capability, major
 * @param ccMinor        compute capability, minor
 * @param totalMemBytes  global memory in bytes
 * @param smCount        streaming multiprocessors
 * @param l2Bytes        L2 cache size in bytes
 * @param maxSmClockMHz  NVML maximum SM clock (0 if unknown)
 * @param maxMemClockMHz NVML maximum memory clock (0 if unknown)
 * @param pciBusId       PCI bus id
 * @param driverVersion  cudaDriverGetVersion
 * @param runtimeVersion cudaRuntimeGetVersion
 */
public record DeviceFacts(
        int ordinal,
        String name,
        int ccMajor,
        int ccMinor,
        long totalMemBytes,
        int smCount,
        long l2Bytes,
        int maxSmClockMHz,
        int maxMemClockMHz,
        String pciBusId,
        int driverVersion,
        int runtimeVersion) {
    /** @return e.g. {@code sm_90} */
    public String arch() {
        return "sm_" + ccMajor + ccMinor;
    }

    /** @return true for compute capability ≥ 8.9 (FP8 tensor cores) */
    public boolean hasFp8() {
        return ccMajor * 10 + ccMinor >= 89;
    }

    /** @return a short file-name-safe card name, e.g. {@code h100} or {@code h200} */
    public String cardTag() {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        for (String t : new String[] {"h200", "h100", "a100", "l40s", "l4", "a10", "t4", "v100"}) {
            if (n.contains(t)) {
                return t;
            }
        }
        return n.replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
    }

    @Override
    public String toString() {
        return String.format(
                "%s (cc %d.%d, %d SMs, %.1f GiB, L2 %d MiB, SM clock %d MHz, mem clock %d MHz, "
                        + "PCI %s, driver %d, runtime %d)",
                name,
                ccMajor,
                ccMinor,
                smCount,
                totalMemBytes / 1073741824.0,
                l2Bytes >> 20,
                maxSmClockMHz,
                maxMemClockMHz,
                pciBusId,
                driverVersion,
                runtimeVersion);
    }
}
