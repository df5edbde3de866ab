package io.qsync.planner.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.profile.NetworkGraphs;
import java.util.Map;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Hand-computed working memory of the Fashion-MNIST demo CNN (conv5x5(16)-pool-conv5x5(32)-pool-dense(64)-out). */
class WorkingMemoryTest {
    private static final int B = 8;

    @Test
    void fp32WorkspacesHandComputed() {
        WorkingMemory w =
                new MemoryModel(0, MemoryModel.Accounting.EMULATION).workingMemory(MemoryModelTest.G, Map.of(), B);
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
    void int8ConvHoldsItsPoolOutsideWorkspaces() {
        MemoryModel emu = new MemoryModel(0, MemoryModel.Accounting.EMULATION);
        WorkingMemory w = emu.workingMemory(MemoryModelTest.G, Map.of("conv_1", Precision.INT8), B);
        // pooled: 2·in ("x", "xb") + 2·W ("w", "wb") + 3·im2col ("cols", "dcols", "colsb") + 3·out ("zcache", "dz",
        // "g")
        assertEquals((2 * B * 2304L + 2 * 12800 + 3 * B * 25600L + 3 * B * 2048L) * 4, w.heldOutsideWorkspaces());
        // of which the network's scratch pool: everything but "x", "w" and "zcache", which live until backward
        assertEquals((B * 2304L + 12800 + 3 * B * 25600L + 2 * B * 2048L) * 4, w.sharedScratchBytes());
        // emulated conv_1 keeps only DL4J's pre-activation and activation gradient in the workspace: 2·out;
        // FP32 conv_0: 3·(24·24·25) + 3·9216 is the largest
        assertEquals(2 * B * 2048L * 4, w.perLayerWorking().get("conv_1"));
        assertEquals("conv_0", w.largestLayer());
        assertEquals(Math.round(B * (3 * 14400L + 3 * 9216) * 4 * 1.02), w.layerWorkspace());
        WorkingMemory dev = new MemoryModel(0, MemoryModel.Accounting.DEVICE)
                .workingMemory(MemoryModelTest.G, Map.of("conv_1", Precision.INT8), B);
        assertEquals(B * 2304L + 12800, dev.heldOutsideWorkspaces());
        assertEquals(0, dev.sharedScratchBytes());
    }

    @Test
    void allInt8LayersShareOneScratchPool() {
        Map<String, Precision> plan =
                Map.of("conv_0", Precision.INT8, "conv_1", Precision.INT8, "dense_0", Precision.INT8);
        WorkingMemory w =
                new MemoryModel(0, MemoryModel.Accounting.EMULATION).workingMemory(MemoryModelTest.G, plan, B);
        // kept per layer: conv "x" in + "w" W + "zcache" out; dense also "xb", "wb" (FP16 copies written in forward)
        long kept =
                (B * 784L + 400 + B * 9216L) + (B * 2304L + 12800 + B * 2048L) + (2 * B * 512L + 2 * 32768 + B * 64L);
        // shared, largest per role: "cols"/"dcols"/"colsb" conv_1's im2col 8·8 x 400 (conv_0's is 24·24 x 25),
        // "dz"/"g" conv_0's output 16·24·24, "xb"/"wb" conv_1's input 16·12·12 and weights
        long scratch = 3 * B * 25600L + 2 * B * 9216L + B * 2304L + 12800;
        assertEquals(scratch * 4, w.sharedScratchBytes());
        assertEquals((kept + scratch) * 4, w.heldOutsideWorkspaces());
        assertEquals(w.heldOutsideWorkspaces(), WorkspaceLayout.pooledBytes(MemoryModelTest.G, plan, B));
        // one pool per layer would hold each layer's scratch: conv_0 3·14400 + 2·9216 + 784 + 400, conv_1 as above,
        // dense "g"
        long perLayerScratch = (3 * B * 14400L + 2 * B * 9216L + B * 784L + 400)
                + (3 * B * 25600L + 2 * B * 2048L + B * 2304L + 12800)
                + B * 64L;
        assertTrue(scratch < perLayerScratch);
    }

    @Test
    void totalAddsStateAndContext() {
        MemoryModel m = new MemoryModel(1000, MemoryModel.Accounting.EMULATION);
        Map<String, Precision> plan = Map.of("dense_0", Precision.INT8);
        MemoryPrediction p = m.predictBytes(MemoryModelTest.G, plan, B);
        assertEquals(
                p.paramBytes()
                        + p.gradientBytes()
                        + p.updaterBytes()
                        + m.workingMemory(MemoryModelTest.G, plan, B).totalBytes()
                        + 1000,
                m.predictTotalBytes(MemoryModelTest.G, plan, B));
    }

    @Test
    void wideInt8DenseRunsItsGemmInFp64InTheWorkspace() {
        // 784-1200-64-10: dense_1 has K = 1200 > LowPrecisionGemm.EXACT_FP32_INT8_K
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .list()
                .layer(new DenseLayer.Builder()
                        .nOut(1200)
                        .activation(Activation.RELU)
                        .build())
                .layer(new DenseLayer.Builder()
                        .nOut(64)
                        .activation(Activation.RELU)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(10)
                        .activation(Activation.SOFTMAX)
                        .build())
                .setInputType(InputType.feedForward(784))
                .build());
        net.init();
        LayerGraph g = NetworkGraphs.of(SwitchableLayers.convert(net));
        MemoryModel emu = new MemoryModel(0, MemoryModel.Accounting.EMULATION);
        WorkingMemory fp32 = emu.workingMemory(g, Map.of(), B);
        // FP32 dense: pre-activation, mmuli's f-ordered temporary, activation gradient
        assertEquals(3 * B * 1200L * 4, fp32.perLayerWorking().get("dense_0"));
        WorkingMemory int8 = emu.workingMemory(g, Map.of("dense_0", Precision.INT8, "dense_1", Precision.INT8), B);
        // dense_0 (K = 784): exact FP32 GEMM of codes, only 2·out of DL4J's backward arrays
        assertEquals(2 * B * 1200L * 4, int8.perLayerWorking().get("dense_0"));
        // dense_1 forward: FP64 codes (2·in) and weights (2·W), FP64 product + f temporary (4·out), FP32 cast (out)
        assertEquals(
                (2 * B * 1200L + 2 * 1200 * 64 + 5 * B * 64L) * 4,
                int8.perLayerWorking().get("dense_1"));
        // kept per layer: x, xb, w, wb, zcache; shared: one "g", the larger (dense_0's B·1200)
        assertEquals(
                (2 * B * 784L + 2 * 784 * 1200 + 2 * B * 1200L + 2 * B * 1200L + 2 * 1200 * 64 + B * 64L) * 4,
                int8.heldOutsideWorkspaces());
        assertEquals(B * 1200L * 4, int8.sharedScratchBytes());
    }
}
