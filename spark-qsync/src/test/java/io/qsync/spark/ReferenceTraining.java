package io.qsync.spark;

import io.qsync.data.LabeledImages;
import io.qsync.runtime.LocalShard;
import io.qsync.runtime.ModelSpec;
import io.qsync.runtime.ShardSchedule;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/** Plain single-process DL4J training on the same global batches as a distributed run (no shuffling). */
final class ReferenceTraining {
    private ReferenceTraining() {}

    /**
     * @param partitions the workers' partitions, by rank, in row order
     */
    static Model train(ModelSpec spec, List<LabeledImages> partitions, int globalBatch, int epochs) {
        long[] counts = new long[partitions.size()];
        List<LocalShard> shards = new ArrayList<>();
        for (int r = 0; r < counts.length; r++) {
            counts[r] = partitions.get(r).count();
            shards.add(partitions.get(r).toShard());
        }
        ShardSchedule s = new ShardSchedule(counts, globalBatch);
        Model model = spec.restore();
        for (int e = 0; e < epochs; e++) {
            for (int step = 0; step < s.steps(); step++) {
                List<DataSet> parts = new ArrayList<>();
                for (int r = 0; r < counts.length; r++) {
                    parts.add(shards.get(r).batch(null, s.shardStart(r, step), s.shardEnd(r, step), 10));
                }
                DataSet global = DataSet.merge(parts);
                if (model instanceof MultiLayerNetwork m) {
                    m.fit(global);
                } else {
                    ((ComputationGraph) model).fit(global);
                }
            }
        }
        return model;
    }

    /** max|a - b| / max|b|. */
    static double relativeDifference(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue() / b.amaxNumber().doubleValue();
    }
}
