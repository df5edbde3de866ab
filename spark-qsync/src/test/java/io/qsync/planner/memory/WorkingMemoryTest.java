package io.qsync.planner.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qsync.lowprec.Precision;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hand-computed working memory of the Fashion-MNIST demo CNN (conv5x5(16)-pool-conv5x5(32)-pool-dense(64)-out). */
class WorkingMemoryTest {
  private static final int B = 8;

  @Test
  void fp32WorkspacesHandComputed() {
    WorkingMemory w = new MemoryModel(0, MemoryModel.Accounting.EMULATION)
        .workingMemory(MemoryModelTest.G, Map.of(), B);
    // outputs: 16·24·24 + 16·12·12 + 32·8·8 + 32·4·4 + 64 + 10 = 14154 per example
    assertEquals(Math.round(B * 14154L * 4 * 1.05), w.activationsWorkspace());
    // even layers' inputs max 2304 (conv_1), odd layers' inputs max 9216 (pool_0)
    assertEquals(Math.round(B * 2304L * 4 * 1.02) + Math.round(B * 9216L * 4 * 1.02), w.gradientWorkspaces());
    // FP32 conv_1: 3·im2col (8·8·400) + 3·out (2048)
    assertEquals("conv_1", w.largestLayer());
    assertEquals(Math.round(B * (3 * 25600L + 3 * 2048) * 4 * 1.02), w.layerWorkspace());
    assertEquals(0, w.heldOutsideWorkspaces());
    assertEquals(B * (784L + 10) * 4, w.inputBatchBytes());
  }

  @Test
  void int8ConvHoldsOperandsAndPreActivationOutsideWorkspaces() {
    MemoryModel emu = new MemoryModel(0, MemoryModel.Accounting.EMULATION);
    WorkingMemory w = emu.workingMemory(MemoryModelTest.G, Map.of("conv_1", Precision.INT8), B);
    assertEquals((B * 2304L + 12800 + B * 2048L) * 4, w.heldOutsideWorkspaces());
    // emulated conv_1: 2·im2col + 4·out + in + W; FP32 conv_0: 3·(24·24·25) + 3·9216 is now the largest
    assertEquals((2 * B * 25600L + 4 * B * 2048 + B * 2304 + 12800) * 4, w.perLayerWorking().get("conv_1"));
    assertEquals("conv_0", w.largestLayer());
    assertEquals(Math.round(B * (3 * 14400L + 3 * 9216) * 4 * 1.02), w.layerWorkspace());
    WorkingMemory dev = new MemoryModel(0, MemoryModel.Accounting.DEVICE)
        .workingMemory(MemoryModelTest.G, Map.of("conv_1", Precision.INT8), B);
    assertEquals(B * 2304L + 12800, dev.heldOutsideWorkspaces());
  }

  @Test
  void totalAddsStateAndContext() {
    MemoryModel m = new MemoryModel(1000, MemoryModel.Accounting.EMULATION);
    Map<String, Precision> plan = Map.of("dense_0", Precision.INT8);
    MemoryPrediction p = m.predictBytes(MemoryModelTest.G, plan, B);
    assertEquals(p.paramBytes() + p.gradientBytes() + p.updaterBytes()
        + m.workingMemory(MemoryModelTest.G, plan, B).totalBytes() + 1000, m.predictTotalBytes(MemoryModelTest.G, plan, B));
  }
}
