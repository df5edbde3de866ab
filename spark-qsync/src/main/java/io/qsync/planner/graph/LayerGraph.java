package io.qsync.planner.graph;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The layer graph of a DL4J network: nodes in topological order with ids, shapes, parameter counts and
 * depths. Immutable; JSON via {@link #toJson()} / {@link #fromJson(String)}.
 *
 * @param nodes    the nodes in topological (execution) order
 * @param inputs   names of the network inputs ({@code "input"} for a MultiLayerNetwork)
 * @param maxDepth L, the largest node depth
 */
public record LayerGraph(List<LayerNode> nodes, List<String> inputs, int maxDepth) {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Copies the lists and checks that ids are unique and that {@code maxDepth} is the largest depth. */
  public LayerGraph {
    nodes = List.copyOf(nodes);
    inputs = List.copyOf(inputs);
    int max = 0;
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (LayerNode n : nodes) {
      if (!seen.add(n.id())) {
        throw new IllegalArgumentException("Duplicate layer id '" + n.id() + "' in layer graph");
      }
      max = Math.max(max, n.depth());
    }
    if (max != maxDepth) {
      throw new IllegalArgumentException("maxDepth " + maxDepth + " differs from the largest node depth " + max);
    }
  }

  /**
   * @param id node id
   * @return the node
   * @throws IllegalArgumentException naming the known ids if there is no such node
   */
  public LayerNode node(String id) {
    return find(id).orElseThrow(() -> new IllegalArgumentException(
        "No layer '" + id + "' in the layer graph; its ids are " + ids()));
  }

  /**
   * @param id node id
   * @return the node, if present
   */
  public Optional<LayerNode> find(String id) {
    return nodes.stream().filter(n -> n.id().equals(id)).findFirst();
  }

  /** @return all node ids in topological order */
  public List<String> ids() {
    return nodes.stream().map(LayerNode::id).toList();
  }

  /** @return the switchable nodes in topological order */
  public List<LayerNode> switchableNodes() {
    List<LayerNode> out = new ArrayList<>();
    for (LayerNode n : nodes) {
      if (n.switchable()) {
        out.add(n);
      }
    }
    return out;
  }

  /** @return total parameter count */
  public long totalParams() {
    return nodes.stream().mapToLong(LayerNode::paramCount).sum();
  }

  /** @return pretty-printed JSON */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot serialize layer graph", e);
    }
  }

  /**
   * @param json text from {@link #toJson()}
   * @return the graph
   * @throws IllegalArgumentException if the text is not a layer graph
   */
  public static LayerGraph fromJson(String json) {
    try {
      return JSON.readValue(json, LayerGraph.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("Not a layer graph JSON (expected {\"nodes\":[...],\"inputs\":[...],"
          + "\"maxDepth\":L} as written by LayerGraph.toJson / qsync profile-stats): " + e.getOriginalMessage(), e);
    }
  }
}
