package io.qsync.backend.cuda;

import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;

/**
 * DL4J's BatchNormalization (NCHW or feature vectors, learned gamma/beta): batch mean and biased variance in
 * training, running statistics at inference. The running mean and variance (or log10 std) are updated as DL4J
 * does, through "gradients" that a no-op updater subtracts undivided ({@link TensorOps#bnRunningDelta}).
 *
 * @param offsets flat offsets of gamma, beta, mean, var-or-log10std
 */
record BatchNormStep(String name, String input, Shape in, long[] offsets, boolean log10Std, double eps, double decay)
        implements UnaryStep {

    @Override
    public Shape out() {
        return in;
    }

    private int c() {
        return in.c();
    }

    private Tensor p(Exec x, int i) {
        return x.param(offsets[i], c());
    }

    @Override
    public void forward(Exec x, boolean training) {
        TensorOps ops = x.ops();
        Tensor mean;
        Tensor var;
        if (training) {
            mean = x.scratch("bnMean:" + name, c());
            var = x.scratch("bnVar:" + name, c());
            ops.bnStats(x.out(input), x.rows(), c(), in.plane(), mean, var);
        } else {
            mean = p(x, 2);
            var = p(x, 3);
            if (log10Std) {
                Tensor v = x.scratch("bnRunVar:" + name, c());
                ops.bnVarFromLog10Std(var, v);
                var = v;
            }
        }
        ops.bnForward(x.out(input), mean, var, eps, p(x, 0), p(x, 1), x.rows(), c(), in.plane(), x.out(name));
    }

    @Override
    public void backward(Exec x) {
        TensorOps ops = x.ops();
        Tensor mean = x.scratch("bnMean:" + name, c());
        Tensor var = x.scratch("bnVar:" + name, c());
        Tensor t = x.gradInTarget(input);
        Tensor dx = t != null ? t : x.perExample("bnDx:" + name, in.size());
        ops.bnBackward(
                x.out(input),
                x.gradOut(name),
                mean,
                var,
                eps,
                p(x, 0),
                x.rows(),
                c(),
                in.plane(),
                dx,
                x.paramGrad(offsets[0], c()),
                x.paramGrad(offsets[1], c()));
        ops.bnRunningDelta(
                p(x, 2),
                p(x, 3),
                mean,
                var,
                decay,
                log10Std,
                c(),
                x.paramGrad(offsets[2], c()),
                x.paramGrad(offsets[3], c()));
        x.gradInDone(input, t);
    }
}
