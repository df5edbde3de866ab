package io.qsync.backend.cuda;

import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;

/**
 * DL4J's OutputLayer (dense part with {@code wOff >= 0}) or LossLayer, with softmax + MCXENT ({@code softmax}) or
 * identity + MSE. The loss gradient w.r.t. the pre-activation is DL4J's: {@code p - y}, or {@code 2 (z - y) / n}.
 */
record LossStep(String name, String input, int nIn, int nOut, long wOff, long bOff, boolean softmax)
        implements UnaryStep {

    @Override
    public Shape out() {
        return Shape.vector(nOut);
    }

    private boolean dense() {
        return wOff >= 0;
    }

    private Tensor z(Exec x) {
        if (!dense()) {
            return x.out(input);
        }
        return softmax ? x.perExample("z:" + name, nOut) : x.out(name);
    }

    @Override
    public void forward(Exec x, boolean training) {
        Tensor z = z(x);
        if (dense()) {
            DenseStep.affine(x, x.out(input), z, nIn, nOut, wOff, bOff);
        }
        if (softmax) {
            x.ops().softmax(z, x.rows(), nOut, x.out(name));
        } else if (!dense()) {
            x.ops().copy(z, x.out(name));
        }
    }

    /** After {@link #forward}: writes the summed loss of the rows into {@code loss[0]} and keeps dL/dz. */
    void loss(Exec x, Tensor labels, Tensor loss) {
        TensorOps ops = x.ops();
        Tensor dz = x.perExample("dz:" + name, nOut);
        if (softmax) {
            ops.softmaxCrossEntropy(z(x), labels, x.rows(), nOut, x.out(name), dz, loss);
        } else {
            ops.mse(x.out(name), labels, x.rows(), nOut, dz, loss);
        }
    }

    @Override
    public void backward(Exec x) {
        Tensor dz = x.perExample("dz:" + name, nOut);
        if (dense()) {
            DenseStep.affineBackward(x, input, dz, nIn, nOut, wOff, bOff);
            return;
        }
        Tensor t = x.gradInTarget(input);
        if (t != null) {
            x.ops().copy(dz, t);
            x.gradInDone(input, t);
        }
    }
}
