package io.qsync.spark.ml;

import io.qsync.spark.RowShards;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Lazily scores a partition: reads {@value #BATCH} input rows, runs the network once on them, hands out those rows
 * with the output columns appended, then reads the next batch. At most one batch is held at a time.
 */
final class BatchPredictions implements Iterator<Row> {
    static final int BATCH = 256;
    private final Iterator<Row> rows;
    private final Model net;
    private final int featuresIndex;
    private final boolean raw;
    private final boolean probability;
    private final List<Row> ready = new ArrayList<>();
    private int next;

    BatchPredictions(Iterator<Row> rows, Model net, int featuresIndex, boolean raw, boolean probability) {
        this.rows = rows;
        this.net = net;
        this.featuresIndex = featuresIndex;
        this.raw = raw;
        this.probability = probability;
    }

    @Override
    public boolean hasNext() {
        if (next == ready.size()) {
            ready.clear();
            next = 0;
            if (rows.hasNext()) {
                score();
            }
        }
        return next < ready.size();
    }

    @Override
    public Row next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return ready.get(next++);
    }

    private void score() {
        List<Row> batch = new ArrayList<>(BATCH);
        while (batch.size() < BATCH && rows.hasNext()) {
            batch.add(rows.next());
        }
        int d = RowShards.length(batch.get(0).get(featuresIndex));
        float[] x = new float[batch.size() * d];
        for (int i = 0; i < batch.size(); i++) {
            Object cell = batch.get(i).get(featuresIndex);
            if (RowShards.length(cell) != d) {
                throw new IllegalArgumentException("features of different lengths in one partition (" + d + " and "
                        + RowShards.length(cell) + "); every row needs as many features as the network's input");
            }
            RowShards.copy(cell, x, i * d);
        }
        INDArray in = Nd4j.create(x, new long[] {batch.size(), d}, 'c');
        INDArray probs = net instanceof MultiLayerNetwork m
                ? m.output(in, false)
                : ((ComputationGraph) net).outputSingle(false, in);
        double[][] p = probs.toDoubleMatrix();
        for (int i = 0; i < batch.size(); i++) {
            Row r = batch.get(i);
            List<Object> vals = new ArrayList<>(r.length() + 3);
            for (int c = 0; c < r.length(); c++) {
                vals.add(r.get(c));
            }
            if (raw) {
                vals.add(Vectors.dense(logOf(p[i])));
            }
            if (probability) {
                vals.add(Vectors.dense(p[i]));
            }
            vals.add((double) argMax(p[i]));
            ready.add(RowFactory.create(vals.toArray()));
        }
    }

    /** Log-probabilities: the softmax logits up to a constant, so their arg-max is the prediction. */
    private static double[] logOf(double[] p) {
        double[] out = new double[p.length];
        for (int k = 0; k < p.length; k++) {
            out[k] = Math.log(Math.max(p[k], Double.MIN_NORMAL));
        }
        return out;
    }

    private static int argMax(double[] p) {
        int best = 0;
        for (int k = 1; k < p.length; k++) {
            if (p[k] > p[best]) {
                best = k;
            }
        }
        return best;
    }
}
