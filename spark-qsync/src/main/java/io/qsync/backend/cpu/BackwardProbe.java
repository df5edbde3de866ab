package io.qsync.backend.cpu;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;
import java.util.function.LongConsumer;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.impl.FrozenVertex;
import org.deeplearning4j.nn.graph.vertex.impl.LayerVertex;
import org.deeplearning4j.nn.layers.wrapper.BaseWrapperLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Reports how far DL4J's flat gradient is final while its backward pass runs. DL4J lays parameters out in forward
 * (topological) order and back-propagates in reverse, writing each layer's gradient straight into its view of the flat
 * gradient; so when a layer's {@code backpropGradient} starts, every later layer's gradient is final, and when it
 * returns, its own is. For the duration of one {@code computeGradientAndScore} every hidden layer (of a
 * {@link MultiLayerNetwork}, or inside each {@link LayerVertex} of a {@link ComputationGraph}) is wrapped in a
 * {@link BaseWrapperLayer} that reports those two points, then the network gets its own layers back. Output layers
 * stay unwrapped (DL4J treats them specially); the layer below reports them on entry. Networks whose layout does not
 * follow that order get no early reports, and so do networks with frozen layers or other wrapper layers (DL4J stops
 * its backward pass at a frozen layer, which it recognises by its class).
 */
final class BackwardProbe {
    private static final Field VERTEX_LAYER = vertexLayerField();

    private BackwardProbe() {}

    /** Runs {@code body} (one gradient computation of {@code mln}) with its hidden layers reporting to {@code sink}. */
    static double run(MultiLayerNetwork mln, LongConsumer sink, DoubleSupplier body) {
        Layer[] original = mln.getLayers();
        for (Layer l : original) {
            if (l instanceof BaseWrapperLayer) {
                return body.getAsDouble();
            }
        }
        Layer[] probed = original.clone();
        long flat = mln.params().offset();
        List<long[]> ranges = new ArrayList<>();
        for (int i = original.length - 1; i >= 0; i--) {
            ranges.add(range(original[i], flat));
            if (!(original[i] instanceof IOutputLayer)) {
                probed[i] = new Probe(original[i], ranges, ranges.size() - 1, sink);
            }
        }
        if (!backwardOrder(ranges)) {
            return body.getAsDouble();
        }
        mln.setLayers(probed);
        try {
            return body.getAsDouble();
        } finally {
            mln.setLayers(original);
        }
    }

    /** Runs {@code body} (one gradient computation of {@code graph}) with its hidden layers reporting to {@code sink}. */
    static double run(ComputationGraph graph, LongConsumer sink, DoubleSupplier body) {
        GraphVertex[] vertices = graph.getVertices();
        int[] topo = graph.topologicalSortOrder();
        long flat = graph.params().offset();
        List<long[]> ranges = new ArrayList<>();
        List<LayerVertex> wrapped = new ArrayList<>();
        List<Layer> layers = new ArrayList<>();
        for (int t = topo.length - 1; t >= 0; t--) {
            GraphVertex v = vertices[topo[t]];
            if (v instanceof FrozenVertex || v.hasLayer() && v.getLayer() instanceof BaseWrapperLayer) {
                return body.getAsDouble();
            }
            if (v.hasLayer() && v instanceof LayerVertex lv) {
                ranges.add(range(v.getLayer(), flat));
                if (!(v.getLayer() instanceof IOutputLayer)) {
                    wrapped.add(lv);
                    layers.add(new Probe(v.getLayer(), ranges, ranges.size() - 1, sink));
                }
            }
        }
        if (VERTEX_LAYER == null || !backwardOrder(ranges)) {
            return body.getAsDouble();
        }
        List<Layer> original = new ArrayList<>();
        try {
            for (int i = 0; i < wrapped.size(); i++) {
                original.add(wrapped.get(i).getLayer());
                VERTEX_LAYER.set(wrapped.get(i), layers.get(i));
            }
            return body.getAsDouble();
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot wrap the graph's layers", e);
        } finally {
            try {
                for (int i = 0; i < original.size(); i++) {
                    VERTEX_LAYER.set(wrapped.get(i), original.get(i));
                }
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot restore the graph's layers", e);
            }
        }
    }

    /** {@code [start, end)} of the layer's parameters in the flat vector ({@code [0, 0)} for none). */
    private static long[] range(Layer l, long flat) {
        long start = Long.MAX_VALUE;
        for (Map.Entry<String, INDArray> e : l.paramTable(false).entrySet()) {
            start = Math.min(start, e.getValue().offset() - flat);
        }
        return start == Long.MAX_VALUE ? null : new long[] {start, start + l.numParams()};
    }

    /** True if, in backward order, every layer's parameters lie below those of the layers before it. */
    private static boolean backwardOrder(List<long[]> ranges) {
        long below = Long.MAX_VALUE;
        for (long[] r : ranges) {
            if (r != null) {
                if (r[1] > below) {
                    return false;
                }
                below = r[0];
            }
        }
        return true;
    }

    private static Field vertexLayerField() {
        try {
            Field f = LayerVertex.class.getDeclaredField("layer");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** A layer that reports to the sink around its backward pass and otherwise is the layer it wraps. */
    private static final class Probe extends BaseWrapperLayer {
        private static final long serialVersionUID = 1L;
        private final transient LongConsumer sink;
        private final long above;
        private final long here;

        Probe(Layer layer, List<long[]> ranges, int at, LongConsumer sink) {
            super(layer);
            this.sink = sink;
            long a = Long.MAX_VALUE;
            for (int j = 0; j < at; j++) {
                if (ranges.get(j) != null) {
                    a = ranges.get(j)[0];
                }
            }
            long[] mine = ranges.get(at);
            this.above = a;
            this.here = mine == null ? a : mine[0];
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            if (above != Long.MAX_VALUE) {
                sink.accept(above);
            }
            Pair<Gradient, INDArray> r = underlying.backpropGradient(epsilon, workspaceMgr);
            if (here != Long.MAX_VALUE) {
                sink.accept(here);
            }
            return r;
        }
    }
}
