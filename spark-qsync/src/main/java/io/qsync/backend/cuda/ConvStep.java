package io.qsync.backend.cuda;

import io.qsync.lowprec.train.Act;
import io.qsync.lowprec.train.ConvGeom;
import io.qsync.lowprec.train.Convolution;
import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;

/**
 * DL4J's ConvolutionLayer (NCHW, dilation 1): the convolution proper through {@link Exec#convolution} (the ops' own,
 * e.g. cuDNN, where they offer one for the layer's precision, else im2col + one GEMM), writing {@code [N, nOut, oh,
 * ow]} straight into the pre-activation; then bias and activation. W is DL4J's {@code [nOut, nIn, kh, kw]} 'c' block,
 * b its {@code [nOut]} block (offset -1: no bias). A lowered layer without a direct convolution runs im2col and the
 * GEMMs through {@link io.qsync.lowprec.train.LowPrecisionLinear} with the weights in its X role and the transposed
 * columns in its W role (per-tensor scales: the same codes and sums as the CPU emulation, whose operands are the other
 * way round).
 */
record ConvStep(
        String name,
        String input,
        ConvGeom g,
        int nOut,
        long wOff,
        long bOff,
        Act act,
        double alpha,
        LayerPrecision precision)
        implements UnaryStep {

    @Override
    public Shape out() {
        return Shape.image(nOut, g.oh(), g.ow());
    }

    private Tensor z(Exec x) {
        return act == Act.IDENTITY ? x.out(name) : x.perExample("z:" + name, nOut * g.outPlane());
    }

    private Tensor weights(Exec x) {
        return x.param(wOff, (long) nOut * g.patch());
    }

    private Tensor weightGrad(Exec x) {
        return x.paramGrad(wOff, (long) nOut * g.patch());
    }

    private long columns(Exec x) {
        return (long) x.rows() * g.outPlane();
    }

    @Override
    public void forward(Exec x, boolean training) {
        TensorOps ops = x.ops();
        Tensor z = z(x);
        Convolution conv = x.convolution(name, g, nOut, precision);
        if (conv != null) {
            conv.forward(x.out(input), weights(x), z);
        } else {
            loweredForward(x, z);
        }
        if (bOff >= 0 && act != Act.IDENTITY) {
            ops.addBiasActivate(act, alpha, z, x.param(bOff, nOut), x.rows(), nOut, g.outPlane(), x.out(name));
            return;
        }
        if (bOff >= 0) {
            ops.addBias(z, x.param(bOff, nOut), x.rows(), nOut, g.outPlane());
        }
        if (act != Act.IDENTITY) {
            ops.activate(act, alpha, z, x.out(name));
        }
    }

    /** Yt[nOut, n] = q(W)[nOut, K] · q(colsT)[n, K]ᵀ: the weights take the GEMM's X role, the columns its W role. */
    private void loweredForward(Exec x, Tensor z) {
        TensorOps ops = x.ops();
        long n = columns(x);
        Tensor cols = x.scratch("cols", g.patch() * n);
        ops.im2col(x.out(input), g, x.rows(), cols);
        Tensor yt = x.scratch("convT", nOut * n);
        Tensor colsT = x.scratch("colsT", g.patch() * n);
        ops.swapAxes(cols, colsT, g.patch(), (int) n, 1);
        x.linear(name, precision).forward(weights(x), colsT, null, nOut, (int) n, g.patch(), yt);
        ops.swapAxes(yt, z, nOut, x.rows(), g.outPlane());
    }

    @Override
    public void backward(Exec x) {
        TensorOps ops = x.ops();
        Tensor dz = x.gradOut(name);
        if (act != Act.IDENTITY) {
            Tensor d = x.perExample("dz:" + name, nOut * g.outPlane());
            if (bOff >= 0) {
                ops.activateBackwardSumBias(
                        act, alpha, z(x), dz, d, x.paramGrad(bOff, nOut), x.rows(), nOut, g.outPlane());
            } else {
                ops.activateBackward(act, alpha, z(x), dz, d);
            }
            dz = d;
        } else if (bOff >= 0) {
            ops.sumBias(dz, x.paramGrad(bOff, nOut), x.rows(), nOut, g.outPlane());
        }
        Convolution conv = x.convolution(name, g, nOut, precision);
        if (conv != null) {
            Tensor t = x.gradInTarget(input); // overwritten (beta 0): Exec adds a second contribution afterwards
            conv.backward(dz, t, weightGrad(x));
            x.gradInDone(input, t);
            return;
        }
        long n = columns(x);
        Tensor dzt = x.scratch("convT", nOut * n);
        ops.swapAxes(dz, dzt, x.rows(), nOut, g.outPlane());
        Tensor dColsT = x.scratch("colsT", g.patch() * n);
        x.linear(name, precision).backward(dzt, weightGrad(x), dColsT);
        Tensor t = x.gradInTarget(input);
        if (t != null) {
            Tensor cols = x.scratch("cols", g.patch() * n);
            ops.swapAxes(dColsT, cols, (int) n, g.patch(), 1);
            ops.col2im(cols, g, x.rows(), t);
            x.gradInDone(input, t);
        }
    }
}
