package io.qsync.backend.cpu;

import io.qsync.lowprec.train.AdamScalars;
import io.qsync.lowprec.train.FlatAdam;
import io.qsync.runtime.Nd4jBuffers;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.Trainable;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
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
    /** One parameter array of a block: flat range and whether it is averaged over the batch. */
    private record Range(int off, int len, boolean divide) {}

    /** One updater block: flat range, state offset, its Adam (null: NoOp) and parameter arrays. */
    private record Block(int off, int len, int stateOff, Adam adam, List<Range> ranges) {}

    private final List<Block> blocks;

    private FusedAdamUpdate(List<Block> blocks) {
        this.blocks = blocks;
    }

    /** The fused update of {@code model}, or empty where DL4J's update does more than Adam / NoOp. */
    static Optional<FusedAdamUpdate> of(Model model) {
        boolean miniBatch = model.conf() != null && model.conf().isMiniBatch(); // DL4J's updaters ask the same
        BaseMultiLayerUpdater<?> u = model instanceof MultiLayerNetwork m
                ? (BaseMultiLayerUpdater<?>) m.getUpdater()
                : (BaseMultiLayerUpdater<?>) ((ComputationGraph) model).getUpdater();
        INDArray flat = model.params();
        if (!miniBatch || u == null || flat == null || flat.length() == 0) {
            return Optional.empty();
        }
        List<Block> blocks = new ArrayList<>();
        for (UpdaterBlock b : u.getUpdaterBlocks()) {
            List<Range> ranges = new ArrayList<>();
            IUpdater conf = null;
            for (UpdaterBlock.ParamState s : b.getLayersAndVariablesInBlock()) {
                Trainable l = s.getLayer();
                String name = s.getParamName();
                conf = l.getConfig().getUpdaterByParam(name);
                var regs = l.getConfig().getRegularizationByParam(name);
                GradientNormalization gn = l.getConfig().getGradientNormalization();
                if ((regs != null && !regs.isEmpty()) || (gn != null && gn != GradientNormalization.None)) {
                    return Optional.empty();
                }
                ranges.add(new Range(
                        (int) (s.getParamView().offset() - flat.offset()),
                        (int) s.getParamView().length(),
                        l.updaterDivideByMinibatch(name)));
            }
            if (conf == null || !(conf.getClass() == Adam.class || conf instanceof NoOp)) {
                return Optional.empty();
            }
            blocks.add(new Block(
                    (int) b.getParamOffsetStart(),
                    (int) (b.getParamOffsetEnd() - b.getParamOffsetStart()),
                    (int) b.getUpdaterViewOffsetStart(),
                    conf instanceof Adam a ? a : null,
                    List.copyOf(ranges)));
        }
        return Optional.of(new FusedAdamUpdate(List.copyOf(blocks)));
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
        for (Block b : blocks) {
            Adam a = b.adam();
            if (a == null) {
                for (Range r : b.ranges()) {
                    FlatAdam.plain(p, g, r.off(), r.len(), r.divide() ? batch : 0);
                }
                continue;
            }
            float step = AdamScalars.stepSize(
                    a.getLearningRate(iteration, epoch), a.getBeta1(), a.getBeta2(), a.getEpsilon(), iteration);
            for (Range r : b.ranges()) {
                int m = b.stateOff() + (r.off() - b.off());
                FlatAdam.step(
                        p,
                        g,
                        s,
                        s,
                        r.off(),
                        r.len(),
                        m,
                        m + b.len(),
                        r.divide() ? batch : 0,
                        step,
                        (float) a.getBeta1(),
                        (float) a.getBeta2(),
                        (float) a.getEpsilon());
            }
        }
    }
}
