package io.qsync.planner.cost;

import io.qsync.lowprec.Precision;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Built-in profiles of T4, A10, L4, V100, A100 and H100 from vendor datasheet peaks (dense, no sparsity) as
 * collected in {@code shared/docs/anchors.md} §4.1. All are marked {@code estimate = true}: the roofline efficiency
 * (0.6 of tensor-core peak), the per-layer launch overhead (8 µs), the interconnect figures and the memory-bound cast
 * model are assumptions, not measurements. Replace them with {@link Profiler} output or GPU measurements
 * ({@link GpuMeasurements}) when available.
 */
public final class DeviceCatalog {
    private static final double T = 1e12;
    private static final double GB = 1e9;
    private static final long GIB = 1L << 30;
    private static final String SOURCE = "datasheet peaks, shared/docs/anchors.md §4.1 (estimate)";

    private DeviceCatalog() {}

    /** @return catalog names in order: T4, A10, L4, V100, A100, H100 */
    public static List<String> names() {
        return List.of("T4", "A10", "L4", "V100", "A100", "H100");
    }

    /**
     * @param name device name (case-insensitive)
     * @return its catalog profile
     * @throws IllegalArgumentException naming the known devices
     */
    public static DeviceProfile get(String name) {
        return switch (name.toUpperCase(Locale.ROOT)) {
            case "T4" -> gpu(
                    "T4",
                    16 * GIB,
                    320 * GB,
                    peaks(8.1, 0, 65, 0, 130, 0),
                    new Interconnect("PCIe3 x16 (estimate)", 12 * GB, 10e-6));
            case "A10" -> gpu(
                    "A10",
                    24 * GIB,
                    600 * GB,
                    peaks(31.2, 62.5, 125, 125, 250, 0),
                    new Interconnect("PCIe4 x16 (estimate)", 24 * GB, 10e-6));
            case "L4" -> gpu(
                    "L4",
                    24 * GIB,
                    300 * GB,
                    peaks(30.3, 60, 121, 121, 242, 242),
                    new Interconnect("PCIe4 x16 (estimate)", 24 * GB, 10e-6));
            case "V100" -> gpu(
                    "V100",
                    32 * GIB,
                    900 * GB,
                    peaks(15.7, 0, 125, 0, 0, 0),
                    new Interconnect("NVLink2 (estimate)", 150 * GB, 5e-6));
            case "A100" -> gpu(
                    "A100",
                    40 * GIB,
                    1560 * GB,
                    peaks(19.5, 156, 312, 312, 624, 0),
                    new Interconnect("NVLink3 (estimate)", 300 * GB, 5e-6));
            case "H100" -> gpu(
                    "H100",
                    80 * GIB,
                    3350 * GB,
                    peaks(67, 495, 989, 989, 1979, 1979),
                    new Interconnect("NVLink4 (estimate)", 450 * GB, 5e-6));
            default -> throw new IllegalArgumentException(
                    "Unknown catalog device '" + name + "'; known: " + names() + " (or load a measured profile JSON)");
        };
    }

    /** Peaks in TFLOPS/TOPS; 0 = not supported (V100 has no INT8 tensor cores, FP8 only on L4/H100). */
    private static Map<Precision, Double> peaks(
            double fp32, double tf32, double fp16, double bf16, double int8, double fp8) {
        Map<Precision, Double> m = new EnumMap<>(Precision.class);
        m.put(Precision.FP32, fp32 * T);
        put(m, Precision.TF32, tf32);
        put(m, Precision.FP16, fp16);
        put(m, Precision.BF16, bf16);
        put(m, Precision.INT8, int8);
        put(m, Precision.FP8_E4M3, fp8);
        put(m, Precision.FP8_E5M2, fp8);
        return m;
    }

    private static void put(Map<Precision, Double> m, Precision p, double tera) {
        if (tera > 0) {
            m.put(p, tera * T);
        }
    }

    private static DeviceProfile gpu(
            String name, long memory, double bandwidth, Map<Precision, Double> peaks, Interconnect link) {
        List<Precision> menu =
                peaks.keySet().stream().filter(p -> p != Precision.FP8_E5M2).toList();
        // Adam touches weight, gradient and two moments: ~7 float reads/writes per parameter, memory bound
        LinearCost optimizer = new LinearCost(28.0 / bandwidth, 20e-6);
        return new DeviceProfile(
                name,
                true,
                SOURCE,
                memory,
                menu,
                CastPolicy.NEIGHBOUR,
                new Roofline(peaks, 0.6, bandwidth, 8e-6),
                List.of(),
                new LinkedHashMap<>(),
                optimizer,
                Map.of(),
                link);
    }
}
