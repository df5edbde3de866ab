package io.qsync.backend.cuda;

import io.qsync.runtime.HostBatch;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J's own training of a network in double precision: the near-exact trajectory against which the float engines'
 * rounding is measured. A float engine that is as accurate as DL4J's float code is about as far from this trajectory
 * as DL4J is, so twice DL4J's distance bounds how far two such engines may drift apart, including where reordering
 * DL4J's rows does not reorder its sums (a multi-threaded GEMM splits its reduction the same way for any row order).
 *
 * @param firstGradient the first step's gradient (as {@code computeGradientAndScore} leaves it: not yet divided by the
 *                      batch), as floats
 * @param losses        each step's loss (score) before its update
 * @param params        the parameters after the last step, as floats
 */
public record ExactReference(float[] firstGradient, double[] losses, float[] params) {

    /** Trains a double-precision copy of {@code start} on {@code batches} with DL4J's {@code fit}. */
    public static ExactReference train(Model start, List<HostBatch> batches) {
        Model d = start instanceof MultiLayerNetwork n
                ? n.convertDataType(DataType.DOUBLE)
                : ((ComputationGraph) start).convertDataType(DataType.DOUBLE);
        double[] losses = new double[batches.size()];
        float[] first = null;
        for (int s = 0; s < batches.size(); s++) {
            DataSet ds = dataSet(batches.get(s));
            if (s == 0) { // on a copy: a training forward pass moves batch norm's running statistics
                Model g = d instanceof MultiLayerNetwork n ? n.clone() : ((ComputationGraph) d).clone();
                first = gradient(g, ds);
            }
            if (d instanceof MultiLayerNetwork n) {
                n.fit(ds);
                losses[s] = n.score();
            } else {
                ((ComputationGraph) d).fit(ds);
                losses[s] = ((ComputationGraph) d).score();
            }
        }
        return new ExactReference(first, losses, floats(d.params()));
    }

    private static float[] gradient(Model g, DataSet ds) {
        if (g instanceof MultiLayerNetwork n) {
            n.setInput(ds.getFeatures());
            n.setLabels(ds.getLabels());
            n.computeGradientAndScore();
            return floats(n.gradient().gradient());
        }
        ComputationGraph c = (ComputationGraph) g;
        c.setInputs(ds.getFeatures());
        c.setLabels(ds.getLabels());
        c.computeGradientAndScore();
        return floats(c.gradient().gradient());
    }

    private static float[] floats(INDArray a) {
        return a.castTo(DataType.FLOAT).data().asFloat();
    }

    private static DataSet dataSet(HostBatch b) {
        double[] x = new double[b.features().length];
        double[] y = new double[b.targets().length];
        for (int i = 0; i < x.length; i++) {
            x[i] = b.features()[i];
        }
        for (int i = 0; i < y.length; i++) {
            y[i] = b.targets()[i];
        }
        return new DataSet(
                Nd4j.create(x, new long[] {b.rows(), b.numFeatures()}, 'c'),
                Nd4j.create(y, new long[] {b.rows(), b.numTargets()}, 'c'));
    }
}
