package io.qsync.planner.replay;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A network as the planner needs it: nodes in topological (execution) order. Immutable; build it from the
 * predictor's {@code LayerGraph} ({@link PlanGraphs}) or by hand in tests.
 *
 * @param name  model name (for reports)
 * @param nodes nodes in topological order
 */
public record PlanGraph(String name, List<PlanNode> nodes) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Copies the list and checks ids are unique and edges point to known, earlier nodes. */
  public PlanGraph {
    nodes = List.copyOf(nodes);
    Set<String> seen = new HashSet<>();
    for (PlanNode n : nodes) {
      for (String p : n.predecessors()) {
        if (!seen.contains(p)) {
          throw new IllegalArgumentException("Layer '" + n.id() + "' of model " + name + " has predecessor '" + p
              + "' that is not an earlier node; list nodes in topological order");
        }
      }
      if (!seen.add(n.id())) {
        throw new IllegalArgumentException("Duplicate layer id '" + n.id() + "' in model " + name);
      }
    }
  }

  /** @return index of every id */
  @JsonIgnore
  public Map<String, Integer> indexById() {
    Map<String, Integer> m = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      m.put(nodes.get(i).id(), i);
    }
    return m;
  }

  /**
   * @param id layer id
   * @return the node
   * @throws IllegalArgumentException naming the known ids
   */
  public PlanNode node(String id) {
    for (PlanNode n : nodes) {
      if (n.id().equals(id)) {
        return n;
      }
    }
    throw new IllegalArgumentException("Model " + name + " has no layer '" + id + "'; its ids: "
        + nodes.stream().map(PlanNode::id).toList());
  }

  /** @return ids of switchable layers in execution order */
  @JsonIgnore
  public List<String> switchableIds() {
    List<String> out = new ArrayList<>();
    for (PlanNode n : nodes) {
      if (n.switchable()) {
        out.add(n.id());
      }
    }
    return out;
  }

  /** @return total parameters (the all-reduced flat gradient has this many floats) */
  @JsonIgnore
  public long totalParams() {
    return nodes.stream().mapToLong(PlanNode::paramCount).sum();
  }

  /** @return a short hash of the layer signatures, keying per-model measurements such as step overhead */
  @JsonIgnore
  public String fingerprint() {
    StringBuilder b = new StringBuilder();
    for (PlanNode n : nodes) {
      b.append(n.signature().key()).append(';');
    }
    return Integer.toHexString(b.toString().hashCode());
  }

  /** @return JSON text */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot serialize plan graph " + name, e);
    }
  }

  /**
   * @param json text from {@link #toJson()}
   * @return the graph
   */
  public static PlanGraph fromJson(String json) {
    try {
      return JSON.readValue(json, PlanGraph.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("Not a plan graph JSON: " + e.getOriginalMessage(), e);
    }
  }
}
