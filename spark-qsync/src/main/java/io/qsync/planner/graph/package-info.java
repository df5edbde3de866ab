/**
 * The layer graph of a network: one {@link io.qsync.planner.graph.LayerNode} per layer (or non-layer vertex of a
 * ComputationGraph) with its stable id, shapes, parameter counts and BFS depth from the inputs. Plain data that
 * serializes to JSON; {@link io.qsync.profile.NetworkGraphs} builds it from a DL4J network.
 */
package io.qsync.planner.graph;
