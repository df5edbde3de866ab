package io.qsync.planner.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qsync.lowprec.Precision;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Converts the committed GPU profiles; expected values are read from the same JSON independently of the converter. */
class GpuMeasurementsTest {

    @ParameterizedTest
    @ValueSource(strings = {"h200", "h100"})
    void readsTheCommittedGpuProfiles(String card) throws java.io.IOException {
        Path file = Path.of("../benchmarks/profiles/" + card + ".json");
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        DeviceProfile p = GpuMeasurements.load(file);
        assertEquals(card.toUpperCase(java.util.Locale.ROOT), p.name());
        assertFalse(p.estimate());
        assertEquals(json.path("memoryBytes").asLong(), p.memoryBytes());
        assertEquals(CastPolicy.NEIGHBOUR, p.castPolicy());
        assertTrue(p.precisions()
                .containsAll(List.of(
                        Precision.FP32,
                        Precision.TF32,
                        Precision.FP16,
                        Precision.BF16,
                        Precision.INT8,
                        Precision.FP8_E4M3)));
        assertEquals(
                json.path("gemm8192").path("FP16").path("peakTflops").asDouble() * 1e12,
                p.roofline().peakFlopsPerSec().get(Precision.FP16),
                1e6);
        assertEquals(json.path("copyGBps").asDouble() * 1e9, p.roofline().memoryBytesPerSec(), 1e3);
        JsonNode fit = json.path("castFp32ToFp16Fit");
        assertEquals(
                fit.path("alphaUsPerElement").asDouble() * 1e-6,
                p.casts().get("FP32->FP16").alpha(),
                1e-18);
        assertEquals(
                fit.path("betaUs").asDouble() * 1e-6,
                p.casts().get("FP32->FP16").beta(),
                1e-12);
        assertTrue(p.casts().containsKey("FP32->INT8") && p.casts().containsKey("FP32->FP8_E4M3"));
        assertEquals(8 * 6, p.layers().size());
        // the measured dense 256->64 GEMMs at batch 256 are what the cost model returns for that layer
        JsonNode d = json.path("layerGemms")
                .path("demoCNN.dense 256->64 (b256)")
                .path("times")
                .path("FP32");
        CostModel cm = new CostModel(p);
        LayerSignature dense = new LayerSignature("dense", List.of(256L), List.of(64L), 256 * 64);
        assertEquals(d.path("fwdUs").asDouble() * 1e-6, cm.layerSeconds(dense, 256, Precision.FP32, false), 1e-12);
        assertEquals(
                (d.path("dgradUs").asDouble() + d.path("wgradUs").asDouble()) * 1e-6,
                cm.layerSeconds(dense, 256, Precision.FP32, true),
                1e-12);
        LayerSignature conv1 = new LayerSignature("conv", List.of(1L, 28L, 28L), List.of(8L, 24L, 24L), 8 * 25);
        assertEquals(
                p.layers().stream()
                        .filter(m -> m.signature().equals(conv1) && m.precision() == Precision.INT8)
                        .findFirst()
                        .orElseThrow()
                        .forwardSeconds(),
                cm.layerSeconds(conv1, 256, Precision.INT8, false),
                0);
        assertEquals(p, DeviceProfile.fromJson(p.toJson()));
        // no context recorded by the device tool: the documented default; a recorded one is used as measured
        assertEquals(DeviceProfile.DEFAULT_CONTEXT_BYTES, p.contextBytes());
        String withContext = Files.readString(file).replaceFirst("\\{", "{\"contextBytes\": 734003200,");
        assertEquals(734003200L, GpuMeasurements.toProfile(withContext).contextBytes());
    }

    @Test
    void rejectsOtherJson() {
        assertThrows(IllegalArgumentException.class, () -> GpuMeasurements.toProfile("{\"schema\": \"x\"}"));
    }
}
