package io.qsync.planner.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.profile.NetworkGraphs;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

class MemoryModelTest {
    static final LayerGraph G;

    static {
        MultiLayerNetwork net = new MultiLayerNetwork(DemoModels.fashionCnn(1, 1e-3));
        net.init();
        G = NetworkGraphs.of(SwitchableLayers.convert(net));
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
        long fp16 = m.predictBytes(G, Map.of("conv_0", Precision.FP16, "conv_1", Precision.FP16), 64)
                .totalBytes();
        long int8 = m.predictBytes(G, Map.of("conv_0", Precision.INT8, "conv_1", Precision.INT8), 64)
                .totalBytes();
        assertTrue(int8 < fp16 && fp16 < fp32, int8 + " " + fp16 + " " + fp32);
        long b32 = m.predictBytes(G, Map.of(), 32).totalBytes();
        long b64 = fp32;
        // layer inputs 1x28x28, 16x24x24, 16x12x12, 32x8x8, 512, 64 plus the 10 outputs
        long perExample = (784 + 16 * 24 * 24 + 16 * 12 * 12 + 32 * 8 * 8 + 512 + 64 + 10) * 4L;
        assertEquals(32 * perExample, b64 - b32, "activations are linear in the batch size");
    }

    @Test
    void emulationCountsKeptCopiesPerLayerAndTheSharedScratchPoolOnce() {
        MemoryModel emu = new MemoryModel(0, MemoryModel.Accounting.EMULATION);
        MemoryPrediction base = emu.predictBytes(G, Map.of(), 8);
        MemoryPrediction c1 = emu.predictBytes(G, Map.of("conv_1", Precision.INT8), 8);
        assertEquals(0, base.sharedBytes());
        // kept by conv_1 from forward to backward: "x" (input 8·16·12·12), "w" (12800 weights), "zcache" (8·32·8·8)
        assertEquals((8L * 2304 + 12800 + 8L * 2048) * 4, c1.activationBytes() - base.activationBytes());
        // scratch: "cols" + "dcols" + "colsb" (im2col 8·8·8 x 400), "dz" + "g" (8·32·8·8), "xb" (input), "wb" (weights)
        assertEquals((3 * 8L * 64 * 400 + 2 * 8L * 2048 + 8L * 2304 + 12800) * 4, c1.sharedBytes());
        assertEquals(
                c1.paramBytes() + c1.gradientBytes() + c1.updaterBytes() + c1.activationBytes() + c1.sharedBytes(),
                c1.totalBytes());
        // conv_0 too: its im2col (8·24·24 x 25) is smaller than conv_1's, its output (8·16·24·24) larger: the pool
        // holds
        // the larger buffer of each role, not both
        MemoryPrediction both = emu.predictBytes(G, Map.of("conv_0", Precision.INT8, "conv_1", Precision.INT8), 8);
        assertEquals((3 * 8L * 64 * 400 + 2 * 8L * 9216 + 8L * 2304 + 12800) * 4, both.sharedBytes());
        assertEquals((8L * 784 + 400 + 8L * 9216) * 4, both.activationBytes() - c1.activationBytes());
        MemoryPrediction dev = new MemoryModel(0, MemoryModel.Accounting.DEVICE)
                .predictBytes(G, Map.of("conv_0", Precision.INT8, "conv_1", Precision.INT8), 8);
        assertEquals(0, dev.sharedBytes(), "device accounting stays additive over layers");
    }

    @Test
    void rejectsBadPlans() {
        MemoryModel m = new MemoryModel();
        assertThrows(IllegalArgumentException.class, () -> m.predictBytes(G, Map.of("output_0", Precision.INT8), 8));
        assertThrows(IllegalArgumentException.class, () -> m.predictBytes(G, Map.of("conv_7", Precision.INT8), 8));
        assertThrows(IllegalArgumentException.class, () -> m.predictBytes(G, Map.of(), 0));
    }
}
