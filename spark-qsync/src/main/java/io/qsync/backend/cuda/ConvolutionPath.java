package io.qsync.backend.cuda;

import io.qsync.lowprec.train.Convolution;
import io.qsync.lowprec.train.Im2colConvolution;

/**
 * How one convolution layer ran in a pass, for benchmark rows and logs.
 *
 * @param how    the convolution's own description (e.g. cuDNN with its algorithms), or "&lt;precision&gt; GEMM
 *               (im2col)" for a lowered layer that runs through its low-precision GEMM
 * @param direct whether it ran on the ops' own convolution ({@code TensorOps#directConvolution}: cuDNN, or the INT8
 *               path that gathers its codes itself) rather than through columns the program wrote
 */
record ConvolutionPath(String how, boolean direct) {

    /** The path of a layer given its convolution: null for a lowered layer the ops have no convolution for. */
    static ConvolutionPath of(Convolution c, LayerPrecision p) {
        if (c == null) {
            return new ConvolutionPath(p.precision() + " GEMM (im2col)", false);
        }
        return new ConvolutionPath(c.describe(), !(c instanceof Im2colConvolution));
    }
}
