package io.qsync.profile;

import io.qsync.lowprec.layers.LayerIds;
import io.qsync.lowprec.layers.SwitchableConvolutionLayer;
import io.qsync.lowprec.layers.SwitchableDenseLayer;
import io.qsync.planner.graph.LayerGraph;
import io.qsync.planner.graph.LayerNode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Builds {@link LayerGraph}s from DL4J networks (shapes from DL4J's input-type inference, BFS depths). */
public final class NetworkGraphs {
    private NetworkGraphs() {}

    /** Mutable node data before depths are known. */
    private record Proto(
            String id,
            String type,
            List<Long> in,
            List<Long> out,
            long params,
            long weights,
            long updater,
            boolean switchable) {}

    /**
     * The layer graph of a MultiLayerNetwork whose input type can be inferred (first layer with a
     * feed-forward-to-CNN preprocessor, or a feed-forward first layer with {@code nIn} set).
     *
     * @throws IllegalArgumentException if the input type cannot be inferred (use {@link #of(MultiLayerNetwork,
     *                                  InputType)})
     */
    public static LayerGraph of(MultiLayerNetwork net) {
        return of(net, null);
    }

    /**
     * @param net   initialised network
     * @param given the network's input type (as given to {@code setInputType}), or null to infer it
     * @return its layer graph
     */
    public static LayerGraph of(MultiLayerNetwork net, InputType given) {
        requireInit(net.params());
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        InputType input = given != null ? given : inferInput(conf);
        List<InputType> outTypes = conf.getLayerActivationTypes(input);
        Map<String, Layer> ids = LayerIds.of(net);
        List<Proto> protos = new ArrayList<>();
        Map<String, List<String>> preds = new LinkedHashMap<>();
        InputType prev = input;
        int i = 0;
        String prevId = null;
        for (Map.Entry<String, Layer> e : ids.entrySet()) {
            InputPreProcessor pre = conf.getInputPreProcess(i);
            InputType in = pre != null ? pre.getOutputType(prev) : prev;
            protos.add(proto(e.getKey(), e.getValue(), in, outTypes.get(i)));
            preds.put(e.getKey(), prevId == null ? List.of() : List.of(prevId));
            prev = outTypes.get(i);
            prevId = e.getKey();
            i++;
        }
        return assemble(protos, preds, List.of("input"));
    }

    /**
     * @param net   initialised graph
     * @param given input types in the order of the graph's inputs; none to infer them from feed-forward layers with
     *              {@code nIn} set
     * @return its layer graph
     */
    public static LayerGraph of(ComputationGraph net, InputType... given) {
        requireInit(net.params());
        ComputationGraphConfiguration conf = net.getConfiguration();
        List<String> netInputs = conf.getNetworkInputs();
        InputType[] inputs = given != null && given.length > 0 ? given : inferInputs(conf);
        if (inputs.length != netInputs.size()) {
            throw new IllegalArgumentException("Graph has inputs " + netInputs + " but " + inputs.length
                    + " input types were given; pass one InputType per input");
        }
        Map<String, InputType> types = conf.getLayerActivationTypes(inputs);
        for (int k = 0; k < netInputs.size(); k++) {
            types.putIfAbsent(netInputs.get(k), inputs[k]);
        }
        List<Proto> protos = new ArrayList<>();
        Map<String, List<String>> preds = new LinkedHashMap<>();
        org.deeplearning4j.nn.graph.vertex.GraphVertex[] vertices = net.getVertices();
        for (int idx : net.topologicalSortOrder()) {
            org.deeplearning4j.nn.graph.vertex.GraphVertex v = vertices[idx];
            String name = v.getVertexName();
            if (v.isInputVertex()) {
                continue;
            }
            List<String> vin = conf.getVertexInputs().get(name);
            InputType in = types.get(vin.get(0));
            GraphVertex vc = conf.getVertices().get(name);
            if (vc instanceof LayerVertex lv && lv.getPreProcessor() != null) {
                in = lv.getPreProcessor().getOutputType(in);
            }
            if (v.hasLayer()) {
                protos.add(proto(name, v.getLayer(), in, types.get(name)));
            } else {
                String type = vc.getClass().getSimpleName().toLowerCase(Locale.ROOT);
                protos.add(new Proto(name, type, shape(in), shape(types.get(name)), 0, 0, 0, false));
            }
            List<String> p = new ArrayList<>();
            for (String s : vin) {
                if (!netInputs.contains(s)) {
                    p.add(s);
                }
            }
            preds.put(name, p);
        }
        return assemble(protos, preds, netInputs);
    }

    private static Proto proto(String id, Layer layer, InputType in, InputType out) {
        org.deeplearning4j.nn.conf.layers.Layer lc = layer.conf().getLayer();
        long weights = 0;
        long updater = 0;
        for (Map.Entry<String, INDArray> p : layer.paramTable(false).entrySet()) {
            if (p.getKey().equals("W")) {
                weights = p.getValue().length();
            }
            org.nd4j.linalg.learning.config.IUpdater u = lc.getUpdaterByParam(p.getKey());
            updater += u == null ? 0 : u.stateSize(p.getValue().length());
        }
        return new Proto(
                id, LayerIds.kindOf(lc), shape(in), shape(out), layer.numParams(), weights, updater, isSwitchable(lc));
    }

    /**
     * @param lc a layer configuration
     * @return true for configurations whose precision can be switched (after conversion)
     */
    /** True for the layer types the planner may quantize (dense and convolution, plain or switchable). */
    public static boolean isSwitchable(org.deeplearning4j.nn.conf.layers.Layer lc) {
        Class<?> c = lc.getClass();
        if (c == DenseLayer.class || c == SwitchableDenseLayer.class) {
            return !((DenseLayer) lc).hasLayerNorm();
        }
        return c == ConvolutionLayer.class || c == SwitchableConvolutionLayer.class;
    }

    private static LayerGraph assemble(List<Proto> protos, Map<String, List<String>> preds, List<String> inputs) {
        Map<String, List<String>> succs = new HashMap<>();
        preds.forEach((id, ps) ->
                ps.forEach(p -> succs.computeIfAbsent(p, k -> new ArrayList<>()).add(id)));
        Map<String, Integer> depth = new HashMap<>();
        ArrayDeque<String> queue = new ArrayDeque<>();
        for (Proto p : protos) {
            if (preds.get(p.id()).isEmpty()) {
                depth.put(p.id(), 0);
                queue.add(p.id());
            }
        }
        while (!queue.isEmpty()) {
            String cur = queue.poll();
            for (String s : succs.getOrDefault(cur, List.of())) {
                if (!depth.containsKey(s)) {
                    depth.put(s, depth.get(cur) + 1);
                    queue.add(s);
                }
            }
        }
        List<LayerNode> nodes = new ArrayList<>();
        int max = 0;
        for (int k = 0; k < protos.size(); k++) {
            Proto p = protos.get(k);
            int d = depth.getOrDefault(p.id(), 0);
            max = Math.max(max, d);
            nodes.add(new LayerNode(
                    p.id(),
                    p.type(),
                    k,
                    p.in(),
                    p.out(),
                    p.params(),
                    p.weights(),
                    p.updater(),
                    d,
                    preds.get(p.id()),
                    succs.getOrDefault(p.id(), List.of()),
                    p.switchable()));
        }
        return new LayerGraph("model", nodes, inputs, max);
    }

    private static List<Long> shape(InputType t) {
        List<Long> s = new ArrayList<>();
        for (long v : t.getShape(false)) {
            s.add(v);
        }
        return s;
    }

    private static InputType inferInput(MultiLayerConfiguration conf) {
        InputPreProcessor pre = conf.getInputPreProcess(0);
        if (pre instanceof FeedForwardToCnnPreProcessor p) {
            return InputType.convolutionalFlat(p.getInputHeight(), p.getInputWidth(), p.getNumChannels());
        }
        org.deeplearning4j.nn.conf.layers.Layer first = conf.getConf(0).getLayer();
        if (first instanceof FeedForwardLayer f && !(first instanceof ConvolutionLayer) && f.getNIn() > 0) {
            return InputType.feedForward(f.getNIn());
        }
        throw new IllegalArgumentException("Cannot infer the input type of this network (first layer "
                + first.getClass().getSimpleName()
                + "); call NetworkGraphs.of(net, InputType...) with the type given to "
                + "setInputType");
    }

    private static InputType[] inferInputs(ComputationGraphConfiguration conf) {
        List<String> netInputs = conf.getNetworkInputs();
        InputType[] out = new InputType[netInputs.size()];
        for (int k = 0; k < out.length; k++) {
            String in = netInputs.get(k);
            for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
                if (e.getValue().contains(in)
                        && conf.getVertices().get(e.getKey()) instanceof LayerVertex lv
                        && lv.getLayerConf().getLayer() instanceof FeedForwardLayer f
                        && !(f instanceof ConvolutionLayer)
                        && f.getNIn() > 0
                        && lv.getPreProcessor() == null) {
                    out[k] = InputType.feedForward(f.getNIn());
                }
            }
            if (out[k] == null) {
                throw new IllegalArgumentException("Cannot infer the type of graph input '" + in
                        + "'; call NetworkGraphs.of(graph, InputType...) with the types given to setInputTypes");
            }
        }
        return out;
    }

    private static void requireInit(INDArray params) {
        if (params == null) {
            throw new IllegalArgumentException(
                    "Network is not initialised; call init() before building its layer graph");
        }
    }
}
