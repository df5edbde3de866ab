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

    /** @return true for compute capability ≥ 8.0 (tensor cores that take FP32 tensors as TF32; BF16) */
    public boolean hasTf32() {
        return ccMajor >= 8;
    }

    /** @return true for compute capability ≥ 8.9 (FP8 tensor cores) */
    public boolean hasFp8() {
        return ccMajor * 10 + ccMinor >= 89;
    }

    /**
     * Why the CUDA 13 backend cannot train on this card at all, or null when it can: CUDA 13 (its runtime, NVRTC and
     * libraries) supports compute capability 7.5 and later (T4 and newer); a V100 (7.0) trains on the CPU backend.
     */
    public String whyUnsupported() {
        return ccMajor * 10 + ccMinor >= 75
                ? null
                : name + " is compute capability " + ccMajor + "." + ccMinor + ": CUDA 13, which the cuda backend "
                        + "runs on, supports 7.5 and later (T4, A10, L4, A100, H100)";
    }

    /**
     * Why a layer of this precision cannot train on this card, or null when it can. FP8 needs FP8 tensor cores
     * (compute capability 8.9: L4, H100); TF32 and BF16 need compute capability 8.0 (A100, A10): before it (the T4)
     * there is no TF32 or BF16 arithmetic, and such a layer would run FP32 at FP32's speed, or not at all. FP32, FP16
     * and INT8 run on every card CUDA 13 supports (compute capability 7.5 and later).
     *
     * @param p a layer's precision
     * @return the reason, naming the card and what to plan instead, or null
     */
    public String whyCannotRun(io.qsync.lowprec.Precision p) {
        int cc = ccMajor * 10 + ccMinor;
        int needs =
                switch (p) {
                    case FP8_E4M3, FP8_E5M2 -> 89;
                    case TF32, BF16 -> 80;
                    default -> 0;
                };
        if (cc >= needs) {
            return null;
        }
        return p + " needs compute capability " + needs / 10 + "." + needs % 10 + " or later"
                + (needs == 89 ? " (FP8 tensor cores: L4, H100)" : " (A100, A10, L4, H100)") + "; " + name + " is "
                + ccMajor + "." + ccMinor + ": plan FP16 or INT8 for it";
    }

    /** @return a short file-name-safe card name, e.g. {@code h100} or {@code h200} */
    public String cardTag() {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        // longer names first: an L40 is not an L4, an A100 not an A10
        for (String t : new String[] {"h200", "h100", "a100", "l40s", "l40", "l4", "a10", "t4", "v100"}) {
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
