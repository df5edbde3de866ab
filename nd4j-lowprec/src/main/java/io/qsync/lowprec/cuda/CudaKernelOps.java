package io.qsync.lowprec.cuda;

import io.qsync.lowprec.train.AdamScalars;
import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;

/**
 * The part of {@link CudaTensorOps} that is one kernel launch per op over {@code train_kernels.cu}: batch
 * normalisation, losses, element-wise arithmetic, gradient norms and the updaters.
 */
abstract class CudaKernelOps implements TensorOps {

    /** The compiled training kernels, on the ops' stream. */
    abstract TrainKernels kernels();

    static DeviceBuffer b(Tensor t) {
        return CudaTensor.of(t).buffer();
    }

    @Override
    public void bnStats(Tensor x, int n, int c, int inner, Tensor mean, Tensor var) {
        kernels().perBlock("bn_stats", c, b(x), n, c, inner, b(mean), b(var));
    }

    @Override
    public void bnForward(
            Tensor x,
            Tensor mean,
            Tensor var,
            double eps,
            Tensor gamma,
            Tensor beta,
            int n,
            int c,
            int inner,
            Tensor y) {
        kernels().each("bn_fwd", x.length(), b(x), b(mean), b(var), (float) eps, b(gamma), b(beta), n, c, inner, b(y));
    }

    @Override
    public void bnBackward(
            Tensor x,
            Tensor dy,
            Tensor mean,
            Tensor var,
            double eps,
            Tensor gamma,
            int n,
            int c,
            int inner,
            Tensor dx,
            Tensor dGamma,
            Tensor dBeta) {
        kernels()
                .perBlock(
                        "bn_bwd",
                        c,
                        b(x),
                        b(dy),
                        b(mean),
                        b(var),
                        (float) eps,
                        b(gamma),
                        n,
                        c,
                        inner,
                        b(dx),
                        b(dGamma),
                        b(dBeta));
    }

    @Override
    public void bnRunningDelta(
            Tensor globalMean,
            Tensor global,
            Tensor batchMean,
            Tensor batchVar,
            double decay,
            boolean log10Std,
            int c,
            Tensor dMean,
            Tensor dGlobal) {
        kernels()
                .each(
                        "bn_running",
                        c,
                        b(globalMean),
                        b(global),
                        b(batchMean),
                        b(batchVar),
                        decay,
                        log10Std ? 1 : 0,
                        c,
                        b(dMean),
                        b(dGlobal));
    }

    @Override
    public void bnVarFromLog10Std(Tensor log10Std, Tensor var) {
        kernels().each("var_from_log10std", var.length(), b(log10Std), b(var), (int) var.length());
    }

    @Override
    public void softmaxCrossEntropy(Tensor z, Tensor labels, int rows, int cols, Tensor probs, Tensor dz, Tensor loss) {
        kernels().perBlock("softmax_xent", 1, b(z), b(labels), rows, cols, b(probs), b(dz), b(loss));
    }

    @Override
    public void softmax(Tensor z, int rows, int cols, Tensor probs) {
        kernels().each("softmax_rows", rows, b(z), rows, cols, b(probs));
    }

    @Override
    public void mse(Tensor out, Tensor labels, int rows, int cols, Tensor dz, Tensor loss) {
        kernels().perBlock("mse_loss", 1, b(out), b(labels), rows, cols, b(dz), b(loss));
    }

    @Override
    public void add(Tensor a, Tensor bb, Tensor out) {
        kernels().each("add_f32", a.length(), b(a), b(bb), b(out), a.length());
    }

    @Override
    public void copyBlocks(
            Tensor src,
            int srcStride,
            int srcOffset,
            Tensor dst,
            int dstStride,
            int dstOffset,
            int outer,
            int block,
            boolean accumulate) {
        kernels()
                .each(
                        "copy_blocks",
                        (long) outer * block,
                        b(src),
                        srcStride,
                        srcOffset,
                        b(dst),
                        dstStride,
                        dstOffset,
                        outer,
                        block,
                        accumulate ? 1 : 0);
    }

    @Override
    public void scale(Tensor x, float s) {
        kernels().each("scale_f32", x.length(), b(x), x.length(), s);
    }

    @Override
    public void divide(Tensor x, float d) {
        kernels().each("divide_f32", x.length(), b(x), x.length(), d);
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        kernels().each("axpy_f32", x.length(), alpha, b(x), b(y), x.length());
    }

    @Override
    public void axpySign(float alpha, Tensor x, Tensor y) {
        kernels().each("axpy_sign_f32", x.length(), alpha, b(x), b(y), x.length());
    }

    @Override
    public void sumSquares(Tensor x, Tensor acc) {
        kernels().perBlock("sum_squares", 1, b(x), x.length(), b(acc));
    }

    @Override
    public void normScale(Tensor x, Tensor sumSq, double threshold, boolean clip) {
        kernels().each("norm_scale", x.length(), b(x), x.length(), b(sumSq), threshold, clip ? 1 : 0);
    }

    @Override
    public void clip(Tensor x, float t) {
        kernels().each("clip_f32", x.length(), b(x), x.length(), t);
    }

    @Override
    public void adam(Tensor g, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps, int iteration) {
        float a = AdamScalars.stepSize(lr, beta1, beta2, eps, iteration);
        kernels().each("adam_step", g.length(), b(g), b(m), b(v), g.length(), a, (float) beta1, (float) beta2, (float)
                eps);
    }

    @Override
    public void nesterovs(Tensor g, Tensor v, double lr, double momentum) {
        kernels().each("nesterovs_step", g.length(), b(g), b(v), g.length(), (float) lr, (float) momentum);
    }
}
