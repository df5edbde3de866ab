package io.qsync.planner.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.graph.LayerGraph;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

class MemoryModelTest {
  static final LayerGraph G;

  static {
    MultiLayerNetwork net = new MultiLayerNetwork(DemoModels.fashionCnn(1, 1e-3));
    net.init();
    G = LayerGraph.of(SwitchableLayers.convert(net));
  }

  @Test
  void deviceAccountingHandComputed() {
    MemoryPrediction p = new MemoryModel(1000, MemoryModel.Accounting.DEVICE)
        .predictBytes(G, Map.of("conv_1", Precision.INT8), 2);
    LayerMemory c1 = p.layers().get(2);
    assertEquals("conv_1", c1.layerId());
    assertEquals(12832L * 4, c1.paramBytes());
    assertEquals(12832L * 4, c1.gradientBytes());
    assertEquals(2 * 12832L * 4, c1.updaterBytes(), "Adam: two FP32 moments");
    // input 16x12x12 per example at 1 byte, batch 2, plus an INT8 copy of the 12800 weights
    assertEquals(2 * 2304 + 12800, c1.activationBytes());
    // conv_0 stays FP32: input 1x28x28 per example
    assertEquals(2 * 784 * 4, p.layers().get(0).activationBytes());
    // the last layer also keeps its 10 outputs
    assertEquals(2 * 64 * 4 + 2 * 10 * 4, p.layers().get(5).activationBytes());
    assertEquals(G.totalParams() * 4 * 4 + p.activationBytes() + 1000, p.totalBytes());
  }

  @Test
  void lowerPrecisionAndSmallerBatchNeedLess() {
    MemoryModel m = new MemoryModel();
    long fp32 = m.predictBytes(G, Map.of(), 64).totalBytes();
    long fp16 = m.predictBytes(G, Map.of("conv_0", Precision.FP16, "conv_1", Precision.FP16), 64).totalBytes();
    long int8 = m.predictBytes(G, Map.of("conv_0", Precision.INT8, "conv_1", Precision.INT8), 64).totalBytes();
    assertTrue(int8 < fp16 && fp16 < fp32, int8 + " " + fp16 + " " + fp32);
    long b32 = m.predictBytes(G, Map.of(), 32).totalBytes();
    long b64 = fp32;
    // layer inputs 1x28x28, 16x24x24, 16x12x12, 32x8x8, 512, 64 plus the 10 outputs
    long perExample = (784 + 16 * 24 * 24 + 16 * 12 * 12 + 32 * 8 * 8 + 512 + 64 + 10) * 4L;
    assertEquals(32 * perExample, b64 - b32, "activations are linear in the batch size");
  }

  @Test
  void emulationCountsExtraFp32Copies() {
    MemoryModel emu = new MemoryModel(0, MemoryModel.Accounting.EMULATION);
    long base = emu.predictBytes(G, Map.of(), 8).activationBytes();
    long int8 = emu.predictBytes(G, Map.of("conv_1", Precision.INT8), 8).activationBytes();
    // the pool of FP32 buffers: "x" + "xb" (input 8·16·12·12), "w" + "wb" (weights 12800), "cols" + "dcols" +
    // "colsb" (im2col 8·8·8 x 400), "zcache" + "dz" + "g" (pre-activation 8·32·8·8)
    assertEquals((2 * 8L * 2304 + 2 * 12800 + 3 * 8L * 64 * 400 + 3 * 8L * 32 * 64) * 4, int8 - base);
  }

  @Test
  void rejectsBadPlans() {
    MemoryModel m = new MemoryModel();
    assertThrows(IllegalArgumentException.class, () -> m.predictBytes(G, Map.of("output_0", Precision.INT8), 8));
    assertThrows(IllegalArgumentException.class, () -> m.predictBytes(G, Map.of("conv_7", Precision.INT8), 8));
    assertThrows(IllegalArgumentException.class, () -> m.predictBytes(G, Map.of(), 0));
  }
}
