package io.qsync.spark.ml;

import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;

/** The {@code rawPrediction}, {@code probability} and {@code prediction} column params and their getters. */
public interface HasOutputCols extends Params {

    /** The three params, owned by this stage. */
    OutputCols outputCols();

    /** Prediction column (the arg-max class, double). */
    default Param<String> predictionCol() {
        return outputCols().prediction();
    }

    /** Raw prediction column (log-probabilities, a Vector; empty: none). */
    default Param<String> rawPredictionCol() {
        return outputCols().rawPrediction();
    }

    /** Probability column (class probabilities, a Vector; empty: none). */
    default Param<String> probabilityCol() {
        return outputCols().probability();
    }

    /** The value of {@link #predictionCol()}. */
    default String getPredictionCol() {
        return getOrDefault(predictionCol());
    }

    /** The value of {@link #rawPredictionCol()}. */
    default String getRawPredictionCol() {
        return getOrDefault(rawPredictionCol());
    }

    /** The value of {@link #probabilityCol()}. */
    default String getProbabilityCol() {
        return getOrDefault(probabilityCol());
    }
}
