package io.qsync.backend.cuda;

import io.qsync.backend.updater.UpdaterProgram;
import java.util.List;
import java.util.Map;

/**
 * A DL4J network compiled for {@link ProgramEngine}: its nodes in topological order over named buffers, every
 * parameter at DL4J's flat offset, and the updater as DL4J runs it.
 *
 * @param steps       nodes in topological order (the last is the loss)
 * @param input       name of the network input
 * @param numFeatures floats per input example
 * @param shapes      per-example output shape of every node and of the input
 * @param numParams   length of the flat parameter (and gradient) vector
 * @param updater     DL4J's updater blocks, gradient normalisation and regularisation
 * @param nonAveraged flat ranges DL4J does not divide by the batch size (batch-norm running statistics)
 */
record Program(
        List<Step> steps,
        String input,
        int numFeatures,
        Map<String, Shape> shapes,
        long numParams,
        UpdaterProgram updater,
        long[][] nonAveraged) {

    /** The output (loss) node. */
    LossStep loss() {
        return (LossStep) steps.get(steps.size() - 1);
    }

    /** @throws IllegalArgumentException when a batch's examples do not have the network's number of features */
    void checkFeatures(int features) {
        if (features != numFeatures) {
            throw new IllegalArgumentException(
                    "batch has " + features + " features per example, the network takes " + numFeatures);
        }
    }
}
