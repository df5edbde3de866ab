package io.qsync.lowprec.train;

/**
 * Element-wise activations with DL4J's definitions; derivatives are taken at the pre-activation {@code z}
 * (ReLU'(0) = 0, leaky ReLU'(0) = alpha, as ND4J's derivative ops).
 */
public enum Act {
    /** f(z) = z. */
    IDENTITY,
    /** f(z) = max(z, 0). */
    RELU,
    /** f(z) = z for z > 0, alpha * z otherwise. */
    LEAKYRELU,
    /** f(z) = tanh(z). */
    TANH,
    /** f(z) = 1 / (1 + exp(-z)). */
    SIGMOID;

    /** Kernel code (the index the CUDA kernels switch on). */
    public int code() {
        return ordinal();
    }

    /** f(z) in double precision (host reference). */
    public double apply(double z, double alpha) {
        return switch (this) {
            case IDENTITY -> z;
            case RELU -> z > 0 ? z : 0;
            case LEAKYRELU -> z > 0 ? z : alpha * z;
            case TANH -> Math.tanh(z);
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-z));
        };
    }

    /** f'(z). */
    public double derivative(double z, double alpha) {
        return switch (this) {
            case IDENTITY -> 1;
            case RELU -> z > 0 ? 1 : 0;
            case LEAKYRELU -> z > 0 ? 1 : alpha;
            case TANH -> {
                double t = Math.tanh(z);
                yield 1 - t * t;
            }
            case SIGMOID -> {
                double s = 1.0 / (1.0 + Math.exp(-z));
                yield s * (1 - s);
            }
        };
    }
}
