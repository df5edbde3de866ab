package io.qsync.lowprec.train;

/**
 * The GEMM part of one 2-D convolution layer (DL4J's ConvolutionLayer: NCHW, dilation 1, cross-correlation) for one
 * geometry and batch size: no bias, no activation. Weights are {@code [nOut, c, kh, kw]} ('c' order), the input
 * {@code [batch, c, h, w]}, the output {@code [batch, nOut, oh, ow]}. Like {@link LowPrecisionLinear} it remembers the
 * operands of the last {@link #forward} for {@link #backward}. Obtained from {@link TensorOps#directConvolution} (a
 * library convolution, e.g. cuDNN) or {@link Im2colConvolution} (im2col + one GEMM, the reference); every call
 * enqueues on the ops' queue and allocates nothing, so that a pass can be recorded ({@link TensorOps#capture}).
 */
public interface Convolution extends AutoCloseable {

    /** How it computes (for logs and benchmark rows), e.g. {@code "im2col+GEMM"}. */
    String describe();

    /** {@code y = conv(x, w)}, overwritten; keeps x and w (or their rounded copies) for {@link #backward}. */
    void forward(Tensor x, Tensor w, Tensor y);

    /**
     * Backward filter and backward data from the operands of the last {@link #forward}: {@code dw} (the weight
     * gradient) and {@code dx} (the input gradient) are overwritten.
     *
     * @param dx null when the input needs no gradient
     */
    void backward(Tensor dy, Tensor dx, Tensor dw);

    /** Frees what it holds (descriptors, workspace); the tensors it was given are not its own. */
    @Override
    void close();
}
