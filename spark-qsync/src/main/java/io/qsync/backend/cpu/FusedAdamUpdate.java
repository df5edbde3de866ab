package io.qsync.backend.cpu;

import io.qsync.backend.updater.UpdaterProgram;
import io.qsync.lowprec.train.AdamScalars;
import io.qsync.lowprec.train.FlatAdam;
import io.qsync.runtime.Nd4jBuffers;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;

/**
 * DL4J's update of one iteration in one fused pass per updater block ({@link FlatAdam}), for the networks where that
 * is all DL4J does: every block Adam or NoOp (batch-norm running statistics), no regularisation, no gradient
 * normalisation, minibatch averaging on. DL4J runs the same arithmetic as a sequence of whole-array ops (divide,
 * Adam, subtract), each a pass over memory; on a worker with one or two cores those passes cost as much as a small
 * network's backward. The results are bitwise DL4J's, in the network's own parameter, gradient and updater-state
 * arrays (checkpoints and exports are unchanged).
 */
final class FusedAdamUpdate {
    private final List<UpdaterProgram.Block> blocks;

    private FusedAdamUpdate(List<UpdaterProgram.Block> blocks) {
        this.blocks = blocks;
    }

    /** The fused update of {@code model}, or empty where DL4J's update does more than Adam / NoOp. */
    static Optional<FusedAdamUpdate> of(Model model) {
        boolean miniBatch = model.conf() != null && model.conf().isMiniBatch(); // DL4J's updaters ask the same
        if (!miniBatch || model.params() == null || model.params().length() == 0) {
            return Optional.empty();
        }
        List<String> problems = new ArrayList<>();
        UpdaterProgram program = UpdaterProgram.of(model, problems);
        boolean plain = problems.isEmpty()
                && program.norms().isEmpty()
                && program.blocks().stream()
                        .allMatch(b -> (b.updater().getClass() == Adam.class || b.updater() instanceof NoOp)
                                && b.params().stream().allMatch(p -> p.regs().isEmpty()));
        return plain ? Optional.of(new FusedAdamUpdate(program.blocks())) : Optional.empty();
    }

    /**
     * One iteration: the summed gradient becomes the update and is subtracted from the parameters; the state moves on.
     *
     * @param params    the network's flat parameters
     * @param gradient  its flat gradient view (summed over {@code batch} examples)
     * @param state     its updater state view (null when no block keeps state)
     * @param batch     examples of the global batch
     * @param iteration DL4J's iteration count
     * @param epoch     DL4J's epoch count
     */
    void apply(INDArray params, INDArray gradient, INDArray state, int batch, int iteration, int epoch) {
        FloatBuffer p = Nd4jBuffers.floatView(params);
        FloatBuffer g = Nd4jBuffers.floatView(gradient);
        FloatBuffer s = state == null ? null : Nd4jBuffers.floatView(state);
        for (UpdaterProgram.Block b : blocks) {
            if (b.updater() instanceof NoOp) {
                for (UpdaterProgram.Param r : b.params()) {
                    FlatAdam.plain(p, g, (int) r.off(), (int) r.len(), r.divide() ? batch : 0);
                }
                continue;
            }
            Adam a = (Adam) b.updater();
            float step = AdamScalars.stepSize(
                    a.getLearningRate(iteration, epoch), a.getBeta1(), a.getBeta2(), a.getEpsilon(), iteration);
            for (UpdaterProgram.Param r : b.params()) {
                int m = (int) (b.stateOff() + (r.off() - b.off()));
                FlatAdam.step(
                        p,
                        g,
                        s,
                        s,
                        (int) r.off(),
                        (int) r.len(),
                        m,
                        (int) (m + b.len()),
                        r.divide() ? batch : 0,
                        step,
                        (float) a.getBeta1(),
                        (float) a.getBeta2(),
                        (float) a.getEpsilon());
            }
        }
    }
}
