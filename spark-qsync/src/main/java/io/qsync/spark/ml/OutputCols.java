package io.qsync.spark.ml;

import java.io.Serializable;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;

/**
 * The three output columns of a Spark ML probabilistic classifier, shared by {@link QSyncClassifier} and
 * {@link QSyncClassificationModel}: {@code rawPrediction} (the network's output layer), {@code probability} (class
 * probabilities) and {@code prediction} (the arg-max class as a double). An empty name leaves a column out.
 */
public final class OutputCols implements Serializable {
    private static final long serialVersionUID = 1L;
    private final Param<String> prediction;
    private final Param<String> rawPrediction;
    private final Param<String> probability;

    OutputCols(Params owner) {
        prediction = new Param<>(owner, "predictionCol", "prediction column: the arg-max class, double");
        rawPrediction = new Param<>(
                owner, "rawPredictionCol", "raw prediction column: the output layer, Vector; " + "empty: none");
        probability = new Param<>(
                owner, "probabilityCol", "probability column: class probabilities, Vector; " + "empty: none");
        owner.setDefault(prediction, "prediction");
        owner.setDefault(rawPrediction, "rawPrediction");
        owner.setDefault(probability, "probability");
    }

    Param<String> prediction() {
        return prediction;
    }

    Param<String> rawPrediction() {
        return rawPrediction;
    }

    Param<String> probability() {
        return probability;
    }
}
