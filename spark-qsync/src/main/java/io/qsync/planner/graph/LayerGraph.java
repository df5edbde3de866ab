package io.qsync.planner.graph;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A network as the whole planner sees it (indicators, memory model, Replayer, Allocator, reports): nodes in
 * topological order with ids, shapes, parameter counts and depths. Plain data: build it from a DL4J network with
 * {@code io.qsync.profile.NetworkGraphs}, by hand, or from JSON ({@link #toJson()} / {@link #fromJson(String)}).
 *
 * @param name     model name (for reports; {@code "model"} when not given)
 * @param nodes    the nodes in topological (execution) order
 * @param inputs   names of the network inputs ({@code "input"} for a MultiLayerNetwork)
 * @param maxDepth L, the largest node depth
 */
public record LayerGraph(String name, List<LayerNode> nodes, List<String> inputs, int maxDepth) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * Copies the lists and checks that ids are unique, that edges point to earlier nodes (topological order) and that
     * {@code maxDepth} is the largest depth.
     */
    public LayerGraph {
        name = name == null || name.isBlank() ? "model" : name;
        nodes = List.copyOf(nodes);
        inputs = List.copyOf(inputs);
        int max = 0;
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (LayerNode n : nodes) {
            for (String p : n.predecessors()) {
                if (!seen.contains(p)) {
                    throw new IllegalArgumentException("Layer '" + n.id() + "' of model " + name + " has predecessor '"
                            + p + "' that is not an earlier node; list nodes in topological order");
                }
            }
            if (!seen.add(n.id())) {
                throw new IllegalArgumentException("Duplicate layer id '" + n.id() + "' in model " + name);
            }
            max = Math.max(max, n.depth());
        }
        if (max != maxDepth) {
            throw new IllegalArgumentException("maxDepth " + maxDepth + " differs from the largest node depth " + max);
        }
    }

    /**
     * A graph of one input ({@code "input"}) whose maximum depth is read from the nodes.
     *
     * @param name  model name
     * @param nodes nodes in topological order
     */
    public LayerGraph(String name, List<LayerNode> nodes) {
        this(
                name,
                nodes,
                List.of("input"),
                nodes.stream().mapToInt(LayerNode::depth).max().orElse(0));
    }

    /** The same graph under another model name. */
    public LayerGraph withName(String newName) {
        return new LayerGraph(newName, nodes, inputs, maxDepth);
    }

    /**
     * @param id node id
     * @return the node
     * @throws IllegalArgumentException naming the known ids if there is no such node
     */
    public LayerNode node(String id) {
        return find(id).orElseThrow(() ->
                new IllegalArgumentException("Model " + name + " has no layer '" + id + "'; its ids are " + ids()));
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

    /** @return ids of the switchable layers in execution order */
    public List<String> switchableIds() {
        return switchableNodes().stream().map(LayerNode::id).toList();
    }

    /** @return index of every id in {@link #nodes()} */
    public java.util.Map<String, Integer> indexById() {
        java.util.Map<String, Integer> m = new java.util.HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            m.put(nodes.get(i).id(), i);
        }
        return m;
    }

    /** @return total parameter count (the all-reduced flat gradient has this many floats) */
    public long totalParams() {
        return nodes.stream().mapToLong(LayerNode::paramCount).sum();
    }

    /** @return a short hash of the layer signatures, keying per-model measurements such as step overhead */
    public String fingerprint() {
        StringBuilder b = new StringBuilder();
        for (LayerNode n : nodes) {
            b.append(n.signature().key()).append(';');
        }
        return Integer.toHexString(b.toString().hashCode());
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
            throw new IllegalArgumentException(
                    "Not a layer graph JSON (expected {\"nodes\":[...],\"inputs\":[...],"
                            + "\"maxDepth\":L} as written by LayerGraph.toJson / qsync profile-stats): "
                            + e.getOriginalMessage(),
                    e);
        }
    }
}
