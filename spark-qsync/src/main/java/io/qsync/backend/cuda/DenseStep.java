package io.qsync.backend.cuda;

import io.qsync.lowprec.train.Act;
import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;

/**
 * DL4J's DenseLayer: {@code out = f(in W + b)}, W {@code [nIn, nOut]} in 'f' order at its flat offset (read as the
 * row-major {@code [nOut, nIn]} matrix W^T), b {@code [nOut]} (offset -1: no bias). A lowered layer runs its GEMMs
 * through {@link io.qsync.lowprec.train.LowPrecisionLinear} (QSync's rules), bias and activation in FP32.
 */
record DenseStep(
        String name,
        String input,
        int nIn,
        int nOut,
        long wOff,
        long bOff,
        Act act,
        double alpha,
        LayerPrecision precision)
        implements UnaryStep {

    @Override
    public Shape out() {
        return Shape.vector(nOut);
    }

    /** The pre-activation buffer (the output itself for the identity). */
    private Tensor z(Exec x) {
        return act == Act.IDENTITY ? x.out(name) : x.perExample("z:" + name, nOut);
    }

    @Override
    public void forward(Exec x, boolean training) {
        Tensor z = z(x);
        if (precision.lowered()) {
            x.linear(name, precision)
                    .forward(
                            x.out(input),
                            x.param(wOff, (long) nIn * nOut),
                            bOff >= 0 ? x.param(bOff, nOut) : null,
                            x.rows(),
                            nOut,
                            nIn,
                            z);
        } else {
            affine(x, x.out(input), z, nIn, nOut, wOff, bOff);
        }
        if (act != Act.IDENTITY) {
            x.ops().activate(act, alpha, z, x.out(name));
        }
    }

    @Override
    public void backward(Exec x) {
        Tensor dz = x.gradOut(name);
        if (act != Act.IDENTITY) {
            Tensor d = x.perExample("dz:" + name, nOut);
            x.ops().activateBackward(act, alpha, z(x), dz, d);
            dz = d;
        }
        if (!precision.lowered()) {
            affineBackward(x, input, dz, nIn, nOut, wOff, bOff);
            return;
        }
        if (bOff >= 0) {
            x.ops().sumBias(dz, x.paramGrad(bOff, nOut), x.rows(), nOut, 1);
        }
        Tensor t = x.gradInTarget(input);
        x.linear(name, precision).backward(dz, t, x.paramGrad(wOff, (long) nIn * nOut));
        x.gradInDone(input, t);
    }

    /** {@code z = in W + b} for the current rows. */
    static void affine(Exec x, Tensor in, Tensor z, int nIn, int nOut, long wOff, long bOff) {
        TensorOps ops = x.ops();
        ops.gemm(false, true, x.rows(), nOut, nIn, 1f, in, x.param(wOff, (long) nIn * nOut), 0f, z);
        if (bOff >= 0) {
            ops.addBias(z, x.param(bOff, nOut), x.rows(), nOut, 1);
        }
    }

    /** Parameter gradients of {@link #affine} from dz, and the input's gradient if it wants one. */
    static void affineBackward(Exec x, String input, Tensor dz, int nIn, int nOut, long wOff, long bOff) {
        TensorOps ops = x.ops();
        ops.gemm(true, false, nOut, nIn, x.rows(), 1f, dz, x.out(input), 0f, x.paramGrad(wOff, (long) nIn * nOut));
        if (bOff >= 0) {
            ops.sumBias(dz, x.paramGrad(bOff, nOut), x.rows(), nOut, 1);
        }
        Tensor t = x.gradInTarget(input);
        if (t != null) {
            ops.gemm(false, false, x.rows(), nIn, nOut, 1f, dz, x.param(wOff, (long) nIn * nOut), 0f, t);
            x.gradInDone(input, t);
        }
    }
}
