package io.qsync.planner.graph;

import io.qsync.planner.cost.LayerSignature;
import java.util.List;

/**
 * One node of a {@link LayerGraph}: a layer or a non-layer vertex (ComputationGraph).
 *
 * @param id               stable id ({@link io.qsync.lowprec.layers.LayerIds}: {@code conv_0}, {@code dense_1}, ... for
 *                         a MultiLayerNetwork, the vertex name for a ComputationGraph)
 * @param type             kind: {@code conv}, {@code dense}, {@code output}, {@code batchnorm}, a DL4J layer class in
 *                         lower case (e.g. {@code subsamplinglayer}) or a vertex class in lower case (e.g.
 *                         {@code elementwisevertex})
 * @param index            position in topological (execution) order, from 0
 * @param inputShape       per-example input shape (no minibatch dimension; {@code [C, H, W]} for images after any
 *                         input preprocessor, {@code [n]} for vectors); the first input for multi-input vertices
 * @param outputShape      per-example output shape
 * @param paramCount       number of parameters (weights + biases + other), 0 for vertices
 * @param weightCount      number of elements of the weight parameter {@code W} (0 if none)
 * @param updaterStateSize number of updater-state elements for this node's parameters (e.g. 2 per parameter for Adam)
 * @param depth            BFS level from the network inputs: nodes fed by a network input have depth 0, every other
 *                         node 1 + the smallest depth of its predecessors (shortest hop distance, as QSync)
 * @param predecessors     ids of the nodes feeding this one (network inputs are not nodes and are not listed)
 * @param successors       ids of the nodes this one feeds
 * @param switchable       true if the layer's precision can be switched: a dense or convolution layer that
 *                         {@link io.qsync.lowprec.layers.SwitchableLayers#convert} converts (or already converted)
 */
public record LayerNode(
        String id,
        String type,
        int index,
        List<Long> inputShape,
        List<Long> outputShape,
        long paramCount,
        long weightCount,
        long updaterStateSize,
        int depth,
        List<String> predecessors,
        List<String> successors,
        boolean switchable) {

    /** Copies the lists (unmodifiable) and checks the id. */
    public LayerNode {
        if (id == null || id.isEmpty()) {
            throw new IllegalArgumentException("LayerNode id must be a non-empty string");
        }
        inputShape = List.copyOf(inputShape);
        outputShape = List.copyOf(outputShape);
        predecessors = List.copyOf(predecessors);
        successors = List.copyOf(successors);
    }

    /** @return the cost key of this layer (type, shapes, weight count) */
    public LayerSignature signature() {
        return new LayerSignature(type, inputShape, outputShape, weightCount);
    }

    /** @return number of elements of one example's input (product of {@link #inputShape()}) */
    public long inputElements() {
        return signature().inputElements();
    }

    /** @return number of elements of one example's output (product of {@link #outputShape()}) */
    public long outputElements() {
        return signature().outputElements();
    }
}
