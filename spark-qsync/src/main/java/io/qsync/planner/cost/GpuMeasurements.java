package io.qsync.planner.cost;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qsync.lowprec.Precision;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Converts a measured GPU profile ({@code benchmarks/profiles/<card>.json}, schema {@code qsync.deviceProfile/1},
 * fields in {@code benchmarks/profiles/README.md}) into a {@link DeviceProfile}: measured per-precision GEMM peaks
 * ({@code gemm8192.*.peakTflops}), copy bandwidth, per-shape layer GEMM times ({@code layerGemms}: forward,
 * backward = dgrad + wgrad) as layer measurements, and cast costs {@code α·n + β} (α from the 2^28-element kernel
 * timings, β the launch intercept of the FP32→FP16 fit). Not measured and therefore assumed: the roofline efficiency
 * for unmeasured shapes (0.6, as the catalog), the optimizer (Adam, memory bound) and the interconnect (NVLink4-class,
 * 450 GB/s per direction).
 */
public final class GpuMeasurements {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double N28 = 1 << 28;
    private static final Pattern CONV = Pattern.compile("(\\d+)x(\\d+) (\\d+)->(\\d+) @(\\d+)x(\\d+) \\(b(\\d+)\\)");
    private static final Pattern DENSE = Pattern.compile("(\\d+)->(\\d+) \\(b(\\d+)\\)");

    private GpuMeasurements() {}

    /**
     * @param file a {@code qsync.deviceProfile/1} JSON file
     * @return the device profile
     * @throws UncheckedIOException if the file cannot be read
     */
    public static DeviceProfile load(Path file) {
        try {
            return toProfile(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read GPU profile " + file, e);
        }
    }

    /**
     * @param file either a {@link DeviceProfile#toJson()} file or a measured GPU profile ({@code qsync.deviceProfile/1})
     * @return the device profile
     * @throws UncheckedIOException if the file cannot be read
     */
    public static DeviceProfile loadAny(Path file) {
        try {
            String text = Files.readString(file);
            return text.contains("\"qsync.deviceProfile/1\"") ? toProfile(text) : DeviceProfile.fromJson(text);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read device profile " + file, e);
        }
    }

    /**
     * @param json {@code qsync.deviceProfile/1} text
     * @return the device profile
     * @throws IllegalArgumentException if the text is not of that schema
     */
    public static DeviceProfile toProfile(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("Not JSON: " + e.getMessage(), e);
        }
        if (!"qsync.deviceProfile/1".equals(root.path("schema").asText())) {
            throw new IllegalArgumentException(
                    "Expected schema qsync.deviceProfile/1 (benchmarks/profiles/README.md), got '"
                            + root.path("schema").asText() + "'");
        }
        String name = root.path("card").asText("gpu").toUpperCase(Locale.ROOT);
        Map<Precision, Double> peaks = new EnumMap<>(Precision.class);
        root.path("gemm8192")
                .fields()
                .forEachRemaining(e -> peaks.put(
                        Precision.valueOf(e.getKey()),
                        e.getValue().path("peakTflops").asDouble() * 1e12));
        if (peaks.isEmpty()) {
            throw new IllegalArgumentException("GPU profile of " + name + " has no gemm8192 peaks");
        }
        double bandwidth = root.path("copyGBps").asDouble() * 1e9;
        JsonNode fit = root.path("castFp32ToFp16Fit");
        double launch = fit.path("betaUs").asDouble(10) * 1e-6;
        List<Precision> menu = new ArrayList<>(peaks.keySet());
        List<LayerMeasurement> layers = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.path("layerGemms").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            layers.addAll(layerMeasurements(e.getKey(), e.getValue()));
        }
        Map<String, LinearCost> casts = new LinkedHashMap<>();
        casts.put(
                DeviceProfile.castKey(Precision.FP32, Precision.FP16),
                new LinearCost(fit.path("alphaUsPerElement").asDouble() * 1e-6, launch));
        JsonNode q = root.path("quantKernels");
        cast(casts, q, "cast FP32->BF16 (4n+2n)", Precision.FP32, Precision.BF16, launch);
        cast(casts, q, "cast FP32->TF32 (4n+4n)", Precision.FP32, Precision.TF32, launch);
        cast(casts, q, "cast FP16->FP32 (2n+4n)", Precision.FP16, Precision.FP32, launch);
        cast(casts, q, "INT8 amax+quantize, 2 passes (logical 4n+n)", Precision.FP32, Precision.INT8, launch);
        cast(casts, q, "INT8 dequantize to FP32 (n+4n)", Precision.INT8, Precision.FP32, launch);
        cast(casts, q, "INT8 dequantize to FP16 (n+2n)", Precision.INT8, Precision.FP16, launch);
        cast(casts, q, "FP8 E4M3 dequantize (n+4n)", Precision.FP8_E4M3, Precision.FP32, launch);
        if (q.has("FP8 E4M3 quantize, scale on device (4n+n)") && q.has("amax (read 4n)")) {
            double ms = q.path("FP8 E4M3 quantize, scale on device (4n+n)")
                            .path("ms")
                            .asDouble()
                    + q.path("amax (read 4n)").path("ms").asDouble();
            casts.put(
                    DeviceProfile.castKey(Precision.FP32, Precision.FP8_E4M3), new LinearCost(ms * 1e-3 / N28, launch));
        }
        String source = "measured: " + root.path("deviceName").asText() + " "
                + root.path("measuredAt").asText()
                + " (qsync.deviceProfile/1; efficiency 0.6, optimizer and interconnect assumed)";
        return new DeviceProfile(
                name,
                false,
                source,
                root.path("memoryBytes").asLong(),
                menu,
                CastPolicy.NEIGHBOUR,
                new Roofline(peaks, 0.6, bandwidth, launch),
                layers,
                casts,
                new LinearCost(28.0 / bandwidth, 20e-6),
                Map.of(),
                new Interconnect("NVLink4-class (assumed)", 450e9, 5e-6),
                // the device tool may record the bytes in use after creating its CUDA context and handles
                root.has("contextBytes") ? root.path("contextBytes").asLong() : null,
                null);
    }

    private static void cast(
            Map<String, LinearCost> casts, JsonNode q, String key, Precision from, Precision to, double launch) {
        if (q.has(key)) {
            casts.put(
                    DeviceProfile.castKey(from, to),
                    new LinearCost(q.path(key).path("ms").asDouble() * 1e-3 / N28, launch));
        }
    }

    /**
     * Layer GEMMs named {@code "<model>.<layer> KxK Cin->Cout @HxW (bB)"} (convolution; output size from {@code m/B})
     * or {@code "<model>.<layer> In->Out (bB)"} (dense; {@code out} layers as {@code output}).
     */
    static List<LayerMeasurement> layerMeasurements(String label, JsonNode node) {
        LayerSignature sig;
        int batch;
        Matcher c = CONV.matcher(label);
        Matcher d = DENSE.matcher(label);
        if (c.find()) {
            int kh = Integer.parseInt(c.group(1));
            int kw = Integer.parseInt(c.group(2));
            long cin = Long.parseLong(c.group(3));
            long cout = Long.parseLong(c.group(4));
            batch = Integer.parseInt(c.group(7));
            long spatial = node.path("m").asLong() / batch;
            long side = Math.round(Math.sqrt(spatial));
            sig = new LayerSignature(
                    "conv",
                    List.of(cin, Long.parseLong(c.group(5)), Long.parseLong(c.group(6))),
                    List.of(cout, side, spatial / side),
                    cout * cin * kh * kw);
        } else if (d.find()) {
            long in = Long.parseLong(d.group(1));
            long out = Long.parseLong(d.group(2));
            batch = Integer.parseInt(d.group(3));
            String type = label.contains(".out ") ? "output" : "dense";
            sig = new LayerSignature(type, List.of(in), List.of(out), in * out);
        } else {
            throw new IllegalArgumentException("Unrecognised layerGemms label '" + label + "' (expected 'KxK Cin->Cout "
                    + "@HxW (bB)' or 'In->Out (bB)')");
        }
        List<LayerMeasurement> out = new ArrayList<>();
        node.path("times").fields().forEachRemaining(e -> {
            JsonNode t = e.getValue();
            out.add(new LayerMeasurement(
                    sig,
                    batch,
                    Precision.valueOf(e.getKey()),
                    t.path("fwdUs").asDouble() * 1e-6,
                    (t.path("dgradUs").asDouble() + t.path("wgradUs").asDouble()) * 1e-6));
        });
        return out;
    }
}
