package io.qsync.planner.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qsync.lowprec.layers.SwitchableLayers;
import io.qsync.models.DemoModels;
import io.qsync.profile.NetworkGraphs;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

class LayerGraphTest {

    static MultiLayerNetwork cnn() {
        MultiLayerNetwork net = new MultiLayerNetwork(DemoModels.fashionCnn(7, 1e-3));
        net.init();
        return SwitchableLayers.convert(net);
    }

    @Test
    void sensitivityCnnHasSixSwitchableLayers() {
        MultiLayerNetwork net = new MultiLayerNetwork(DemoModels.sensitivityCnn(7, 1e-3));
        net.init();
        LayerGraph g = NetworkGraphs.of(SwitchableLayers.convert(net));
        assertEquals(
                List.of("conv_0", "conv_1", "conv_2", "conv_3", "dense_0", "dense_1"),
                g.switchableNodes().stream().map(LayerNode::id).toList());
        assertEquals(List.of(8L, 28L, 28L), g.node("conv_1").outputShape(), "3x3 convolutions with padding 1");
        assertEquals(List.of(16L * 7 * 7), g.node("dense_0").inputShape());
    }

    @Test
    void cnnNodesShapesParamsAndDepths() {
        LayerGraph g = NetworkGraphs.of(cnn());
        assertEquals(
                List.of("conv_0", "subsamplinglayer_0", "conv_1", "subsamplinglayer_1", "dense_0", "output_0"),
                g.ids());
        assertEquals(5, g.maxDepth());
        LayerNode c0 = g.node("conv_0");
        assertEquals("conv", c0.type());
        assertEquals(List.of(1L, 28L, 28L), c0.inputShape());
        assertEquals(List.of(16L, 24L, 24L), c0.outputShape());
        assertEquals(16 * 25 + 16, c0.paramCount());
        assertEquals(16 * 25, c0.weightCount());
        assertEquals(2 * c0.paramCount(), c0.updaterStateSize(), "Adam keeps two moments per parameter");
        assertEquals(0, c0.depth());
        assertEquals(List.of(), c0.predecessors());
        assertEquals(List.of("subsamplinglayer_0"), c0.successors());
        LayerNode d0 = g.node("dense_0");
        assertEquals(List.of(32L * 4 * 4), d0.inputShape(), "after the CNN-to-dense preprocessor");
        assertEquals(512 * 64 + 64, d0.paramCount());
        assertEquals(4, d0.depth());
        assertEquals(
                List.of("conv_0", "conv_1", "dense_0"),
                g.switchableNodes().stream().map(LayerNode::id).toList());
        assertFalse(g.node("output_0").switchable());
        assertEquals(cnn().numParams(), g.totalParams());
    }

    @Test
    void graphDepthIsShortestHopFromInputs() {
        ComputationGraph net = new ComputationGraph(DemoModels.residualMlp(3, 16, 1e-3));
        net.init();
        LayerGraph g = NetworkGraphs.of(net);
        assertEquals(0, g.node("dense_in").depth());
        assertEquals(1, g.node("dense_res").depth());
        assertEquals(1, g.node("add").depth(), "the skip edge from dense_in makes add one hop away");
        assertEquals(List.of("dense_in", "dense_res"), g.node("add").predecessors());
        assertEquals("elementwisevertex", g.node("add").type());
        assertEquals(0, g.node("add").paramCount());
        assertEquals(2, g.node("dense_out").depth());
        assertEquals(3, g.node("out").depth());
        assertEquals(3, g.maxDepth());
        assertEquals(List.of("in"), g.inputs());
        assertTrue(g.node("dense_res").switchable());
    }

    @Test
    void jsonRoundTripAndUnknownIds() {
        LayerGraph g = NetworkGraphs.of(cnn());
        assertEquals(g, LayerGraph.fromJson(g.toJson()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.node("conv_9"));
        assertTrue(e.getMessage().contains("conv_0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LayerGraph.fromJson("{\"nodes\": 3}"));
    }
}
