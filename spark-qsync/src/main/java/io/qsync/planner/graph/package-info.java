/**
 * The layer graph of a DL4J network: one {@link io.qsync.planner.graph.LayerNode} per layer (or non-layer
 * vertex of a ComputationGraph) with its stable id, shapes, parameter counts and BFS depth from the inputs.
 * Build it with {@link io.qsync.planner.graph.LayerGraph#of}; it serializes to JSON.
 */
package io.qsync.planner.graph;
