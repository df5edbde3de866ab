package io.qsync.backend.cuda;

import io.qsync.lowprec.train.Act;
import io.qsync.lowprec.train.Tensor;

/** DL4J's ActivationLayer: {@code out = f(in)}. */
record ActivationStep(String name, String input, Shape in, Act act, double alpha) implements UnaryStep {

    @Override
    public Shape out() {
        return in;
    }

    @Override
    public void forward(Exec x, boolean training) {
        x.ops().activate(act, alpha, x.out(input), x.out(name));
    }

    @Override
    public void backward(Exec x) {
        Tensor t = x.gradInTarget(input);
        if (t != null) {
            x.ops().activateBackward(act, alpha, x.out(input), x.gradOut(name), t);
            x.gradInDone(input, t);
        }
    }
}
