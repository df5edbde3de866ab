package io.qsync.backend.cuda;

import io.qsync.lowprec.layers.LayerIds;
import io.qsync.lowprec.layers.PrecisionSwitchable;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.nd4j.linalg.api.ndarray.INDArray;

/** What the program engine reads from and writes to its DL4J model, for both network kinds. */
final class ModelLayers {
    private ModelLayers() {}

    /** The switchable layers other than output layers (QSync's deny list), by id, as the CPU engine reports them. */
    static Map<String, Integer> switchable(Model model) {
        Map<String, Layer> all =
                model instanceof MultiLayerNetwork m ? LayerIds.of(m) : LayerIds.of((ComputationGraph) model);
        Map<String, Integer> out = new LinkedHashMap<>();
        all.forEach((id, l) -> {
            if (l instanceof PrecisionSwitchable && !(l instanceof IOutputLayer)) {
                out.put(id, l.getIndex());
            }
        });
        return out;
    }

    /** Layer index by layer name (a network's unnamed layers are {@code layer<i>}). */
    static Map<String, Integer> indexByName(Model model) {
        Map<String, Integer> index = new HashMap<>();
        if (model instanceof MultiLayerNetwork m) {
            for (int i = 0; i < m.getnLayers(); i++) {
                String n = m.getLayerWiseConfigurations().getConf(i).getLayer().getLayerName();
                index.put(n != null ? n : "layer" + i, i);
            }
        } else {
            for (Layer l : ((ComputationGraph) model).getLayers()) {
                index.put(l.conf().getLayer().getLayerName(), l.getIndex());
            }
        }
        return index;
    }

    static int iterationCount(Model model) {
        return model instanceof MultiLayerNetwork m
                ? m.getLayerWiseConfigurations().getIterationCount()
                : ((ComputationGraph) model).getConfiguration().getIterationCount();
    }

    static int epochCount(Model model) {
        return model instanceof MultiLayerNetwork m
                ? m.getLayerWiseConfigurations().getEpochCount()
                : ((ComputationGraph) model).getConfiguration().getEpochCount();
    }

    static void setCounts(Model model, int iteration, int epoch) {
        if (model instanceof MultiLayerNetwork m) {
            m.getLayerWiseConfigurations().setIterationCount(iteration);
            m.getLayerWiseConfigurations().setEpochCount(epoch);
        } else {
            ((ComputationGraph) model).getConfiguration().setIterationCount(iteration);
            ((ComputationGraph) model).getConfiguration().setEpochCount(epoch);
        }
    }

    /** The updater's state as one flat view (DL4J's layout), or null when the updater keeps none (plain SGD). */
    static INDArray updaterState(Model model) {
        BaseMultiLayerUpdater<?> u = model instanceof MultiLayerNetwork m
                ? (BaseMultiLayerUpdater<?>) m.getUpdater()
                : (BaseMultiLayerUpdater<?>) ((ComputationGraph) model).getUpdater();
        INDArray s = u.getStateViewArray();
        return s == null || s.length() == 0 ? null : s;
    }
}
