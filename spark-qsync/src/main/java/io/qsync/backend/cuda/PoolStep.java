package io.qsync.backend.cuda;

import io.qsync.lowprec.train.ConvGeom;
import io.qsync.lowprec.train.Tensor;

/**
 * DL4J's SubsamplingLayer (max/avg, {@code g} non-null) or GlobalPoolingLayer over an image (max/avg over
 * {@code h x w}, {@code g} null, output a feature vector of the channels).
 *
 * @param in input shape per example
 */
record PoolStep(String name, String input, Shape in, ConvGeom g, boolean max) implements UnaryStep {

    @Override
    public Shape out() {
        return g == null ? Shape.vector(in.c()) : Shape.image(in.c(), g.oh(), g.ow());
    }

    private int planes(Exec x) {
        return x.rows() * in.c();
    }

    @Override
    public void forward(Exec x, boolean training) {
        if (g == null) {
            x.ops().globalPool(max, x.out(input), planes(x), in.plane(), x.out(name));
        } else {
            x.ops().pool(max, x.out(input), g, planes(x), x.out(name));
        }
    }

    @Override
    public void backward(Exec x) {
        Tensor t = x.gradInTarget(input);
        if (t == null) {
            return;
        }
        if (g == null) {
            x.ops().globalPoolBackward(max, x.out(input), x.gradOut(name), planes(x), in.plane(), t);
        } else {
            x.ops().poolBackward(max, x.out(input), x.gradOut(name), g, planes(x), t);
        }
        x.gradInDone(input, t);
    }
}
