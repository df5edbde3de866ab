package io.qsync.planner.cost;

import java.util.List;

/**
 * What determines a layer's cost, independent of where it sits in a network: its type, per-example input and
 * output shapes and weight count. Together with a batch size and a precision it keys a measurement.
 *
 * @param type        layer kind ({@code conv}, {@code dense}, {@code output}, {@code batchnorm}, ...)
 * @param inputShape  per-example input shape
 * @param outputShape per-example output shape
 * @param weightCount elements of the weight matrix/kernel (0 if none)
 */
public record LayerSignature(String type, List<Long> inputShape, List<Long> outputShape, long weightCount) {
    /** Copies the shapes. */
    public LayerSignature {
        if (type == null || type.isEmpty()) {
            throw new IllegalArgumentException("LayerSignature needs a type");
        }
        inputShape = List.copyOf(inputShape);
        outputShape = List.copyOf(outputShape);
    }

    /** @return a stable text key without batch and precision, e.g. {@code conv|1x28x28|16x24x24|400} */
    public String key() {
        return type + "|" + dims(inputShape) + "|" + dims(outputShape) + "|" + weightCount;
    }

    /** @return elements of one example's input */
    public long inputElements() {
        return product(inputShape);
    }

    /** @return elements of one example's output */
    public long outputElements() {
        return product(outputShape);
    }

    /**
     * Forward floating-point operations: a weighted layer does {@code 2 * weights} multiply-adds per output position
     * (positions = output elements / output channels), any other layer one operation per output element.
     *
     * @param batch examples
     * @return forward FLOPs
     */
    public double forwardFlops(int batch) {
        if (weightCount > 0 && !outputShape.isEmpty()) {
            double positions = (double) outputElements() / outputShape.get(0);
            return 2.0 * weightCount * positions * batch;
        }
        return (double) outputElements() * batch;
    }

    private static long product(List<Long> s) {
        long p = 1;
        for (long v : s) {
            p *= v;
        }
        return p;
    }

    private static String dims(List<Long> s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.size(); i++) {
            b.append(i == 0 ? "" : "x").append(s.get(i));
        }
        return b.toString();
    }
}
