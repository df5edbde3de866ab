package io.qsync.backend.cuda;

import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;
import java.util.List;

/**
 * DL4J's ElementWiseVertex(Add) ({@code merge} false: out = sum of the inputs) or MergeVertex ({@code merge} true:
 * concatenation along dimension 1, i.e. channels of NCHW images or features of vectors).
 *
 * @param sizes per-example size of each input
 */
record VertexStep(String name, List<String> inputs, int[] sizes, Shape out, boolean merge) implements Step {

    @Override
    public void forward(Exec x, boolean training) {
        TensorOps ops = x.ops();
        Tensor o = x.out(name);
        if (!merge) {
            ops.add(x.out(inputs.get(0)), x.out(inputs.get(1)), o);
            for (int i = 2; i < inputs.size(); i++) {
                ops.add(o, x.out(inputs.get(i)), o);
            }
            return;
        }
        int off = 0;
        for (int i = 0; i < inputs.size(); i++) {
            ops.copyBlocks(x.out(inputs.get(i)), sizes[i], 0, o, out.size(), off, x.rows(), sizes[i], false);
            off += sizes[i];
        }
    }

    @Override
    public void backward(Exec x) {
        Tensor d = x.gradOut(name);
        int off = 0;
        for (int i = 0; i < inputs.size(); i++) {
            String in = inputs.get(i);
            Tensor t = x.gradInTarget(in);
            if (t != null) {
                if (merge) {
                    x.ops().copyBlocks(d, out.size(), off, t, sizes[i], 0, x.rows(), sizes[i], false);
                } else {
                    x.ops().copy(d, t);
                }
                x.gradInDone(in, t);
            }
            off += sizes[i];
        }
    }
}
