package io.qsync.lowprec.train;

import io.qsync.lowprec.Precision;

/**
 * One GEMM layer of a training program in a low precision, with QSync's rules: the forward pass rounds (TF32, FP16,
 * BF16) or quantizes (INT8, FP8 E4M3: per-tensor amax scales) both operands and keeps them for the backward pass; the
 * backward GEMMs run in the layer's backward precision (FP16 for INT8, the layer's own for FP16/BF16/TF32, E5M2
 * gradients for FP8). Outputs and gradients are FP32. Created by {@link TensorOps#lowPrecisionLinear}; it holds the
 * operands saved by the last forward pass until the next one or {@link #close}.
 */
public interface LowPrecisionLinear extends AutoCloseable {

    /** The layer's precision. */
    Precision precision();

    /**
     * {@code out[M,N] = q(X)[M,K] · q(W)[N,K]ᵀ (+ bias[N])}; keeps {@code q(X)} and {@code q(W)} for {@link #backward}.
     *
     * @param bias FP32 {@code [N]} or null
     */
    void forward(Tensor x, Tensor w, Tensor bias, int m, int n, int k, Tensor out);

    /**
     * {@code dX[M,K] = dY·q(W)} and {@code dW[N,K] = dYᵀ·q(X)} from the operands of the last {@link #forward}, in the
     * backward precision; both overwritten.
     *
     * @param dx null when the input needs no gradient
     */
    void backward(Tensor dy, Tensor dx, Tensor dw);

    /** Frees the saved operands. */
    @Override
    void close();
}
