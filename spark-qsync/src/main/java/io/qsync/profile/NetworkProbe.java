package io.qsync.profile;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.layers.LayerIds;
import io.qsync.lowprec.layers.PrecisionSwitchable;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * A MultiLayerNetwork or single-input ComputationGraph seen as what the statistics need: layers by id,
 * the inputs each layer sees in a training forward pass, and gradients of the mean minibatch loss.
 */
final class NetworkProbe {
    private final MultiLayerNetwork mln;
    private final ComputationGraph graph;
    private final Map<String, Layer> layers;
    private final Map<String, String> gradientKeys = new LinkedHashMap<>();

    NetworkProbe(Model model) {
        this.mln = model instanceof MultiLayerNetwork m ? m : null;
        this.graph = model instanceof ComputationGraph g ? g : null;
        if (mln == null && graph == null) {
            throw new IllegalArgumentException("Statistics need a MultiLayerNetwork or ComputationGraph, got "
                    + model.getClass().getName());
        }
        this.layers = mln != null ? LayerIds.of(mln) : LayerIds.of(graph);
        int i = 0;
        for (Map.Entry<String, Layer> e : layers.entrySet()) {
            gradientKeys.put(e.getKey(), (mln != null ? Integer.toString(i) : e.getKey()) + "_W");
            i++;
        }
    }

    Map<String, Layer> layers() {
        return layers;
    }

    /** @return id → the input the layer sees in a training forward pass on {@code features} */
    Map<String, INDArray> layerInputs(INDArray features) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        if (mln != null) {
            List<INDArray> acts = mln.feedForward(features, true);
            int i = 0;
            for (String id : layers.keySet()) {
                out.put(id, acts.get(i++));
            }
        } else {
            Map<String, INDArray> acts = graph.feedForward(new INDArray[] {features}, true);
            for (String id : layers.keySet()) {
                String src = graph.getConfiguration().getVertexInputs().get(id).get(0);
                out.put(id, acts.get(src));
            }
        }
        return out;
    }

    /** Forward + backward on {@code batch}; the gradient view then holds the summed-over-examples gradient. */
    void computeGradient(DataSet batch) {
        if (mln != null) {
            mln.setInput(batch.getFeatures());
            mln.setLabels(batch.getLabels());
            mln.computeGradientAndScore();
        } else {
            graph.setInputs(batch.getFeatures());
            graph.setLabels(batch.getLabels());
            graph.computeGradientAndScore();
        }
    }

    /** @return the weight gradient of layer {@code id} from the last {@link #computeGradient} (a live view) */
    INDArray weightGradient(String id) {
        String key = gradientKeys.get(id);
        return (mln != null ? mln.gradient() : graph.gradient()).getGradientFor(key);
    }

    INDArray params() {
        return mln != null ? mln.params() : graph.params();
    }

    INDArray gradientView() {
        return mln != null ? mln.getGradientsViewArray() : graph.getGradientsViewArray();
    }

    /** @return the [start, end) range of layer {@code id}'s weight W inside the flat parameter vector */
    long[] weightRange(String id) {
        INDArray w = layers.get(id).getParam("W");
        long start = w.offset() - params().offset();
        return new long[] {start, start + w.length()};
    }

    /**
     * Puts every switchable layer in FP32.
     *
     * @return the previous precisions, for {@link #restore}
     */
    Map<PrecisionSwitchable, Precision> forceFp32() {
        Map<PrecisionSwitchable, Precision> prev = new IdentityHashMap<>();
        for (Layer l : layers.values()) {
            if (l instanceof PrecisionSwitchable s) {
                prev.put(s, s.getPrecision());
                s.setPrecision(Precision.FP32);
            }
        }
        return prev;
    }

    void restore(Map<PrecisionSwitchable, Precision> prev) {
        prev.forEach(PrecisionSwitchable::setPrecision);
    }
}
