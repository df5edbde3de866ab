package io.qsync.planner.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class GpuMeasurementsTest {
  private static final Path H200 = Path.of("../benchmarks/profiles/h200.json");

  @Test
  void readsTheCommittedH200Profile() {
    DeviceProfile p = GpuMeasurements.load(H200);
    assertEquals("H200", p.name());
    assertFalse(p.estimate());
    assertEquals(150109880320L, p.memoryBytes());
    assertEquals(CastPolicy.NEIGHBOUR, p.castPolicy());
    assertTrue(p.precisions().containsAll(List.of(Precision.FP32, Precision.TF32, Precision.FP16, Precision.BF16,
        Precision.INT8, Precision.FP8_E4M3)));
    assertEquals(734.073e12, p.roofline().peakFlopsPerSec().get(Precision.FP16), 1e6);
    assertEquals(4231.6e9, p.roofline().memoryBytesPerSec(), 1e3);
    assertEquals(1.33455e-12, p.casts().get("FP32->FP16").alpha(), 1e-18);
    assertEquals(10.641e-6, p.casts().get("FP32->FP16").beta(), 1e-12);
    assertTrue(p.casts().containsKey("FP32->INT8") && p.casts().containsKey("FP32->FP8_E4M3"));
    assertEquals(8 * 6, p.layers().size());
    // the measured dense 256->64 GEMMs at batch 256 are what the cost model returns for that layer
    CostModel cm = new CostModel(p);
    LayerSignature dense = new LayerSignature("dense", List.of(256L), List.of(64L), 256 * 64);
    assertEquals(11.227e-6, cm.layerSeconds(dense, 256, Precision.FP32, false), 1e-12);
    assertEquals((8.941 + 11.104) * 1e-6, cm.layerSeconds(dense, 256, Precision.FP32, true), 1e-12);
    LayerSignature conv1 = new LayerSignature("conv", List.of(1L, 28L, 28L), List.of(8L, 24L, 24L), 8 * 25);
    assertEquals(p.layers().stream().filter(m -> m.signature().equals(conv1) && m.precision() == Precision.INT8)
        .findFirst().orElseThrow().forwardSeconds(), cm.layerSeconds(conv1, 256, Precision.INT8, false), 0);
    assertEquals(p, DeviceProfile.fromJson(p.toJson()));
  }

  @Test
  void rejectsOtherJson() {
    assertThrows(IllegalArgumentException.class, () -> GpuMeasurements.toProfile("{\"schema\": \"x\"}"));
  }
}
