package io.qsync.lowprec.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.ArrayAllocator;
import io.qsync.lowprec.Precision;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.NeuralNetwork;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * One scratch pool per network: training is bitwise the same as with a private scratch pool per layer, the pool holds
 * the largest buffer per role, and the network's held bytes count it once.
 */
class SharedScratchTest {
    private static final int STEPS = 3;

    /** The switchable CNN of {@link SwitchableLayersTest} with every switchable layer, output included, at {@code p}. */
    private static MultiLayerNetwork cnn(Precision p) {
        MultiLayerNetwork net = SwitchableLayers.convert(SwitchableLayersTest.builtInCnn());
        PrecisionPlan.uniform(net, p).with("output_0", p).applyTo(net);
        return net;
    }

    private static ComputationGraph graph(Precision p) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(5)
                .updater(new Adam(1e-2))
                .dataType(DataType.FLOAT)
                .graphBuilder()
                .addInputs("in")
                .addLayer(
                        "stem",
                        new ConvolutionLayer.Builder(3, 3)
                                .nOut(3)
                                .activation(Activation.RELU)
                                .build(),
                        "in")
                .addLayer(
                        "mid",
                        new ConvolutionLayer.Builder(3, 3)
                                .nOut(5)
                                .padding(1, 1)
                                .activation(Activation.TANH)
                                .build(),
                        "stem")
                .addLayer(
                        "fc",
                        new DenseLayer.Builder()
                                .nOut(8)
                                .activation(Activation.RELU)
                                .build(),
                        "mid")
                .addLayer(
                        "out",
                        new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                                .nOut(5)
                                .activation(Activation.SOFTMAX)
                                .build(),
                        "fc")
                .setOutputs("out")
                .setInputTypes(InputType.convolutionalFlat(10, 10, 1))
                .build();
        ComputationGraph base = new ComputationGraph(conf);
        base.init();
        ComputationGraph net = SwitchableLayers.convert(base);
        new PrecisionPlan(Map.of("stem", p, "mid", p, "fc", p, "out", p)).applyTo(net);
        return net;
    }

    /** Gives every switchable layer its own scratch pool, as before the pool was shared. */
    private static void privateScratch(Layer[] layers) {
        for (Layer l : layers) {
            if (l instanceof PrecisionSwitchable s) {
                s.useScratchPool(ArrayAllocator.pooled());
            }
        }
    }

    /** @return the one scratch pool all switchable layers use (fails if they do not share one) */
    private static ArrayAllocator.Pool sharedPool(Layer[] layers) {
        ArrayAllocator.Pool pool = null;
        int n = 0;
        for (Layer l : layers) {
            if (l instanceof PrecisionSwitchable s) {
                pool = pool == null ? s.scratchPool() : pool;
                assertSame(pool, s.scratchPool(), "layer " + l.getIndex() + " has another scratch pool");
                n++;
            }
        }
        assertTrue(pool != null && n > 1);
        return pool;
    }

    private static long ownBytes(Layer[] layers) {
        long n = 0;
        for (Layer l : layers) {
            n += l instanceof PrecisionSwitchable s ? s.ownHeldBytes() : 0;
        }
        return n;
    }

    /**
     * Gives {@code perLayer} private scratch pools, trains both networks alike and asserts equal parameters.
     *
     * @return the pool {@code shared}'s layers share
     */
    private static ArrayAllocator.Pool trainAlike(
            NeuralNetwork shared, Layer[] sharedLayers, NeuralNetwork perLayer, Layer[] perLayerLayers) {
        privateScratch(perLayerLayers);
        ArrayAllocator.Pool pool = sharedPool(sharedLayers);
        DataSet d = new DataSet(SwitchableLayersTest.features(), SwitchableLayersTest.labels());
        for (int i = 0; i < STEPS; i++) {
            shared.fit(d);
            perLayer.fit(d);
        }
        assertArrayEquals(
                perLayer.params().data().asFloat(), shared.params().data().asFloat());
        assertEquals(ownBytes(perLayerLayers), ownBytes(sharedLayers), "what lives until backward stays per layer");
        return pool;
    }

    @ParameterizedTest
    @EnumSource(
            value = Precision.class,
            names = {"INT8", "FP16"})
    void trainsBitwiseLikePerLayerPools(Precision p) {
        MultiLayerNetwork shared = cnn(p);
        MultiLayerNetwork perLayer = cnn(p);
        ArrayAllocator.Pool pool = trainAlike(shared, shared.getLayers(), perLayer, perLayer.getLayers());
        assertNotSame(
                ((PrecisionSwitchable) perLayer.getLayer(0)).scratchPool(),
                ((PrecisionSwitchable) perLayer.getLayer(2)).scratchPool());
        INDArray x = SwitchableLayersTest.features();
        assertArrayEquals(
                perLayer.output(x).data().asFloat(), shared.output(x).data().asFloat());
        assertEquals(ownBytes(shared.getLayers()) + pool.heldBytes(), NetworkBuffers.heldBytes(shared));
        long perLayerHeld = NetworkBuffers.heldBytes(perLayer);
        assertTrue(
                NetworkBuffers.heldBytes(shared) < perLayerHeld,
                NetworkBuffers.heldBytes(shared) + " vs " + perLayerHeld);
        // conv_0's output (8·4·8·8 = 2048) is the largest "dz" and "g": the pool holds it, not conv_0 + conv_1 + ...
        assertEquals(2048L * 4, pool.heldBytesByRole().get("dz"));
        assertEquals(2048L * 4, pool.heldBytesByRole().get("g"));
        // conv_1 (input 8x4x4x4, W 216, output 8x6x4x4) keeps its operand codes and its pre-activation copy only
        assertEquals((512 + 216 + 768) * 4, ((PrecisionSwitchable) shared.getLayer(2)).ownHeldBytes());
        Set<String> scratchRoles = p == Precision.INT8
                ? Set.of("cols", "dz", "g", "dcols", "colsb", "xb", "wb")
                : Set.of("cols", "dz", "g", "dcols", "colsb");
        assertEquals(scratchRoles, pool.heldBytesByRole().keySet());
        // the same for a ComputationGraph
        ComputationGraph sharedGraph = graph(p);
        ComputationGraph perLayerGraph = graph(p);
        ArrayAllocator.Pool graphPool =
                trainAlike(sharedGraph, sharedGraph.getLayers(), perLayerGraph, perLayerGraph.getLayers());
        assertEquals(ownBytes(sharedGraph.getLayers()) + graphPool.heldBytes(), NetworkBuffers.heldBytes(sharedGraph));
        assertTrue(NetworkBuffers.heldBytes(sharedGraph) < NetworkBuffers.heldBytes(perLayerGraph));
    }

    @Test
    void restoredNetworkSharesAPoolOnceItsPlanIsApplied() throws IOException {
        MultiLayerNetwork net = cnn(Precision.INT8);
        PrecisionPlan plan = PrecisionPlan.uniform(net, Precision.INT8);
        plan.applyTo(net);
        INDArray x = SwitchableLayersTest.features();
        INDArray y = SwitchableLayersTest.labels();
        net.fit(x, y);
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net, bos, true);
        MultiLayerNetwork back =
                ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bos.toByteArray()), true);
        assertNull(((PrecisionSwitchable) back.getLayer(0)).scratchPool(), "nothing installed or run yet");
        plan.applyTo(back);
        sharedPool(back.getLayers());
        net.fit(x, y);
        back.fit(x, y);
        assertArrayEquals(net.params().data().asFloat(), back.params().data().asFloat());
        // a layer driven directly, without a plan, gets a private pool; shareScratch joins it to the others
        MultiLayerNetwork direct =
                ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bos.toByteArray()), true);
        ((PrecisionSwitchable) direct.getLayer(3)).setPrecision(Precision.INT8);
        direct.fit(x, y);
        ArrayAllocator.Pool own = ((PrecisionSwitchable) direct.getLayer(3)).scratchPool();
        assertTrue(own != null && own.heldBytes() > 0);
        ArrayAllocator.Pool shared = NetworkBuffers.shareScratch(direct);
        assertNotSame(own, shared);
        assertSame(shared, NetworkBuffers.shareScratch(direct), "already shared: kept");
        sharedPool(direct.getLayers());
    }
}
