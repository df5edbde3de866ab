package io.qsync.backend.cuda;

import io.qsync.backend.updater.UpdaterProgram;
import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.LayerIds;
import io.qsync.runtime.UnsupportedModelException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Compiles an initialized DL4J {@link MultiLayerNetwork} or {@link ComputationGraph} to a {@link Program}: nodes in
 * DL4J's topological order, shapes propagated from the input, parameter offsets read off the network's own flat
 * parameter views, the updater read off DL4J's updater blocks. Every unsupported layer, vertex or setting is
 * collected first and reported in one error.
 */
public final class ProgramCompiler {
    private ProgramCompiler() {}

    /** One node before translation: a layer (with its input preprocessor) or a vertex. */
    private record Node(
            String name,
            List<String> inputs,
            Layer layer,
            org.deeplearning4j.nn.api.Layer instance,
            InputPreProcessor pre,
            GraphVertex vertex) {}

    /** Every part of {@code model} the program engine cannot train, one line each (empty: it can train it all). */
    public static List<String> problems(Model model) {
        return problems(model, p -> null);
    }

    /** As {@link #problems(Model)}, with the layers planned at a precision {@code device} cannot run. */
    static List<String> problems(Model model, Function<Precision, String> device) {
        List<String> problems = new ArrayList<>();
        build(model, problems, device);
        return problems;
    }

    /**
     * @throws UnsupportedModelException listing every unsupported part, naming {@code backend}
     */
    static Program compile(Model model, String backend) {
        return compile(model, backend, p -> null);
    }

    /**
     * As {@link #compile(Model, String)} for a device: a layer planned at a precision the device cannot run
     * ({@code device} gives the reason, null where it can) is one more unsupported part.
     */
    static Program compile(Model model, String backend, Function<Precision, String> device) {
        List<String> problems = new ArrayList<>();
        Program p = build(model, problems, device);
        if (!problems.isEmpty()) {
            throw new UnsupportedModelException(backend, problems);
        }
        return p;
    }

    private static Program build(Model model, List<String> problems, Function<Precision, String> device) {
        List<Node> nodes = new ArrayList<>();
        String input;
        List<String> outputs;
        if (model instanceof MultiLayerNetwork m) {
            MultiLayerConfiguration conf = m.getLayerWiseConfigurations();
            input = "input";
            String prev = input;
            for (int i = 0; i < m.getnLayers(); i++) {
                Layer l = conf.getConf(i).getLayer();
                String name = l.getLayerName() != null ? l.getLayerName() : "layer" + i;
                nodes.add(new Node(name, List.of(prev), l, m.getLayer(i), conf.getInputPreProcess(i), null));
                prev = name;
            }
            outputs = List.of(prev);
            if (m.getnLayers() > 0 && !conf.getConf(0).isMiniBatch()) {
                problems.add("miniBatch(false) is not supported (the gradient is always divided by the batch size)");
            }
            if (conf.getBackpropType() != BackpropType.Standard) {
                problems.add("backprop type " + conf.getBackpropType() + " is not supported (Standard)");
            }
        } else if (model instanceof ComputationGraph g) {
            ComputationGraphConfiguration conf = g.getConfiguration();
            if (conf.getNetworkInputs().size() != 1) {
                problems.add(
                        "networks with " + conf.getNetworkInputs().size() + " inputs are not supported (one input)");
            }
            input = conf.getNetworkInputs().get(0);
            outputs = conf.getNetworkOutputs();
            if (!conf.getDefaultConfiguration().isMiniBatch()) {
                problems.add("miniBatch(false) is not supported (the gradient is always divided by the batch size)");
            }
            for (String name : conf.getTopologicalOrderStr()) {
                GraphVertex v = conf.getVertices().get(name);
                if (v == null) {
                    continue;
                }
                List<String> ins = conf.getVertexInputs().get(name);
                if (v instanceof LayerVertex lv) {
                    nodes.add(new Node(
                            name, ins, lv.getLayerConf().getLayer(), g.getLayer(name), lv.getPreProcessor(), null));
                } else {
                    nodes.add(new Node(name, ins, null, null, null, v));
                }
            }
            if (conf.getBackpropType() != BackpropType.Standard) {
                problems.add("backprop type " + conf.getBackpropType() + " is not supported (Standard)");
            }
        } else {
            problems.add("only MultiLayerNetwork and ComputationGraph are supported, got "
                    + model.getClass().getName());
            return null;
        }
        INDArray flat = model.params();
        if (flat.dataType() != DataType.FLOAT) {
            problems.add("parameters of type " + flat.dataType() + " are not supported (train with dataType(FLOAT))");
        }
        Map<String, Shape> shapes = new LinkedHashMap<>();
        Shape in = inputShape(nodes, input, problems);
        if (in == null) {
            return null;
        }
        shapes.put(input, in);
        Map<org.deeplearning4j.nn.api.Layer, String> planIds = new java.util.IdentityHashMap<>();
        (model instanceof MultiLayerNetwork m ? LayerIds.of(m) : LayerIds.of((ComputationGraph) model))
                .forEach((id, l) -> planIds.put(l, id));
        LayerTranslator layers = new LayerTranslator(problems, device, planIds);
        List<Step> steps = new ArrayList<>();
        for (Node n : nodes) {
            Step s = n.layer() != null ? layer(n, shapes, layers, flat, problems) : vertex(n, shapes, problems);
            if (s == null) {
                shapes.put(
                        n.name(),
                        n.layer() != null
                                ? dl4jOutputShape(n, shapes.get(n.inputs().get(0)))
                                : null);
                continue;
            }
            shapes.put(n.name(), s.out());
            steps.add(s);
        }
        Node last = nodes.get(nodes.size() - 1);
        if (outputs.size() != 1
                || !last.name().equals(outputs.get(0))
                || !(last.layer() instanceof BaseOutputLayer || last.layer() instanceof LossLayer)) {
            problems.add("the network must end in exactly one OutputLayer or LossLayer (outputs: " + outputs + ")");
        }
        if (!problems.isEmpty()) {
            return null;
        }
        UpdaterProgram updater = UpdaterProgram.of(model, problems);
        return new Program(
                List.copyOf(steps),
                input,
                in.size(),
                Map.copyOf(shapes),
                flat.length(),
                updater,
                updater.nonAveraged());
    }

    /**
     * The output shape DL4J computes for a layer this compiler could not translate, so that the layers after it are
     * still checked; null if DL4J cannot tell either.
     */
    private static Shape dl4jOutputShape(Node n, Shape in) {
        if (in == null) {
            return null;
        }
        try {
            InputType t = in.image() ? InputType.convolutional(in.h(), in.w(), in.c()) : InputType.feedForward(in.c());
            if (n.pre() != null) {
                t = n.pre().getOutputType(t);
            }
            InputType o = n.layer().getOutputType(-1, t);
            if (o instanceof InputType.InputTypeConvolutional c) {
                return Shape.image(c.getChannels(), c.getHeight(), c.getWidth());
            }
            return o instanceof InputType.InputTypeFeedForward f ? Shape.vector(f.getSize()) : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static Shape inputShape(List<Node> nodes, String input, List<String> problems) {
        for (Node n : nodes) {
            if (n.inputs().contains(input) && n.layer() != null) {
                if (n.pre() instanceof FeedForwardToCnnPreProcessor p) {
                    return Shape.vector(p.getInputHeight() * p.getInputWidth() * p.getNumChannels());
                }
                if (n.layer() instanceof FeedForwardLayer f && n.pre() == null) {
                    return Shape.vector(f.getNIn());
                }
            }
        }
        problems.add("cannot tell the input shape: the first layer must be a feed-forward layer or take flat images "
                + "through a FeedForwardToCnnPreProcessor (InputType.convolutionalFlat)");
        return null;
    }

    private static Step layer(
            Node n, Map<String, Shape> shapes, LayerTranslator layers, INDArray flat, List<String> problems) {
        String src = n.inputs().get(0);
        Shape in = shapes.get(src);
        if (in == null) {
            return null;
        }
        if (n.pre() instanceof FeedForwardToCnnPreProcessor p) {
            Shape img = Shape.image(p.getNumChannels(), p.getInputHeight(), p.getInputWidth());
            if (img.size() != in.size()) {
                problems.add("layer '" + n.name() + "': preprocessor expects " + img + " = " + img.size()
                        + " values, gets " + in);
                return null;
            }
            in = img;
        } else if (n.pre() instanceof CnnToFeedForwardPreProcessor p) {
            if (p.getFormat() != CNN2DFormat.NCHW) {
                problems.add("layer '" + n.name() + "': CnnToFeedForwardPreProcessor format " + p.getFormat()
                        + " is not supported (NCHW)");
                return null;
            }
            in = in.flat();
        } else if (n.pre() != null) {
            problems.add("layer '" + n.name() + "': preprocessor "
                    + n.pre().getClass().getSimpleName() + " is not supported (FeedForwardToCnn, CnnToFeedForward)");
            return null;
        }
        return layers.translate(n.name(), src, in, n.layer(), n.instance(), flat);
    }

    private static Step vertex(Node n, Map<String, Shape> shapes, List<String> problems) {
        List<Shape> ins = new ArrayList<>();
        for (String i : n.inputs()) {
            if (shapes.get(i) == null) {
                return null;
            }
            ins.add(shapes.get(i));
        }
        int[] sizes = ins.stream().mapToInt(Shape::size).toArray();
        if (n.vertex() instanceof ElementWiseVertex e && e.getOp() == ElementWiseVertex.Op.Add) {
            if (ins.size() < 2 || ins.stream().anyMatch(s -> !s.equals(ins.get(0)))) {
                problems.add("vertex '" + n.name() + "': element-wise add of different shapes " + ins);
                return null;
            }
            return new VertexStep(n.name(), n.inputs(), sizes, ins.get(0), false);
        }
        if (n.vertex() instanceof MergeVertex m && m.getMergeAxis() == 1) {
            Shape f = ins.get(0);
            int c = 0;
            for (Shape s : ins) {
                if (s.image() != f.image() || s.h() != f.h() || s.w() != f.w()) {
                    problems.add("vertex '" + n.name() + "': merge of incompatible shapes " + ins);
                    return null;
                }
                c += s.c();
            }
            return new VertexStep(n.name(), n.inputs(), sizes, new Shape(c, f.h(), f.w(), f.image()), true);
        }
        problems.add("vertex '" + n.name() + "' (" + n.vertex().getClass().getSimpleName() + "): not supported "
                + "(ElementWiseVertex Add, MergeVertex on dimension 1)");
        return null;
    }
}
