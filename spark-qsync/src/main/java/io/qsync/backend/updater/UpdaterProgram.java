package io.qsync.backend.updater;

import io.qsync.lowprec.train.Tensor;
import io.qsync.lowprec.train.TensorOps;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.L1Regularization;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;

/**
 * DL4J's update of one iteration, read off the network's own updater blocks and replayed on {@link TensorOps}:
 * divide by the batch size (except batch-norm running statistics), per-layer gradient normalisation, then per
 * block: regularisation before the updater (L1, L2), the updater (Sgd, Nesterovs, Adam, NoOp; AdamW is DL4J's Adam
 * with WeightDecay), regularisation after it (weight decay); finally {@code params -= update}. The flat updater state
 * is DL4J's: per block, {@code [m, v]} for Adam, {@code [v]} for Nesterovs. Read once from a network, it serves every
 * backend that runs the update itself: the CUDA program, and the CPU engine's fused Adam.
 */
public final class UpdaterProgram {
    /** One parameter array: flat range, division by the batch size, regularisations. */
    public record Param(long off, long len, boolean divide, List<Regularization> regs) {}

    /** One updater block: a run of parameters sharing an updater configuration and its state range. */
    public record Block(long off, long len, long stateOff, IUpdater updater, List<Param> params) {}

    /** A layer's gradient normalisation over its parameters (contiguous flat range). */
    public record Norm(GradientNormalization kind, double threshold, List<Param> params) {}

    private final List<Block> blocks;
    private final List<Norm> norms;
    private final long stateLength;
    /** The flat ranges divided by the batch size, adjacent parameters merged: one division per range. */
    private final List<long[]> divided = new ArrayList<>();

    private UpdaterProgram(List<Block> blocks, List<Norm> norms, long stateLength) {
        this.blocks = blocks;
        this.norms = norms;
        this.stateLength = stateLength;
        for (Block b : blocks) {
            for (Param p : b.params()) {
                long[] last = divided.isEmpty() ? null : divided.get(divided.size() - 1);
                if (!p.divide()) {
                    continue;
                }
                if (last != null && last[0] + last[1] == p.off()) {
                    last[1] += p.len();
                } else {
                    divided.add(new long[] {p.off(), p.len()});
                }
            }
        }
    }

    /** @return floats of updater state (DL4J's state view) */
    public long stateLength() {
        return stateLength;
    }

    /** Flat ranges not divided by the batch size. */
    public long[][] nonAveraged() {
        List<long[]> out = new ArrayList<>();
        for (Block b : blocks) {
            for (Param p : b.params()) {
                if (!p.divide()) {
                    out.add(new long[] {p.off(), p.off() + p.len()});
                }
            }
        }
        return out.toArray(new long[0][]);
    }

    /** @return the updater blocks in flat order */
    public List<Block> blocks() {
        return blocks;
    }

    /** @return the layers' gradient normalisations */
    public List<Norm> norms() {
        return norms;
    }

    /**
     * Reads the network's updater.
     *
     * @param problems receives what no backend's update supports (unsupported updaters or regularisations)
     */
    public static UpdaterProgram of(Model model, List<String> problems) {
        BaseMultiLayerUpdater<?> u = model instanceof MultiLayerNetwork m
                ? (BaseMultiLayerUpdater<?>) m.getUpdater()
                : (BaseMultiLayerUpdater<?>) ((ComputationGraph) model).getUpdater();
        INDArray flat = model.params();
        List<Block> blocks = new ArrayList<>();
        Map<Trainable, List<Param>> byLayer = new LinkedHashMap<>();
        for (UpdaterBlock b : u.getUpdaterBlocks()) {
            List<Param> params = new ArrayList<>();
            IUpdater conf = null;
            for (UpdaterBlock.ParamState s : b.getLayersAndVariablesInBlock()) {
                Trainable l = s.getLayer();
                String name = s.getParamName();
                conf = l.getConfig().getUpdaterByParam(name);
                List<Regularization> regs = l.getConfig().getRegularizationByParam(name);
                regs = regs == null ? List.of() : List.copyOf(regs);
                for (Regularization r : regs) {
                    if (!(r instanceof L1Regularization || r instanceof L2Regularization || r instanceof WeightDecay)) {
                        problems.add("layer '" + l.getConfig().getLayerName() + "': regularization " + r
                                + " is not supported");
                    }
                }
                Param p = new Param(
                        s.getParamView().offset() - flat.offset(),
                        s.getParamView().length(),
                        l.updaterDivideByMinibatch(name),
                        regs);
                params.add(p);
                byLayer.computeIfAbsent(l, k -> new ArrayList<>()).add(p);
            }
            if (!(conf instanceof Sgd || conf instanceof Adam || conf instanceof Nesterovs || conf instanceof NoOp)) {
                problems.add(
                        "updater " + conf + " is not supported (Sgd, Nesterovs, Adam, AdamW = Adam + weightDecay)");
            }
            blocks.add(new Block(
                    b.getParamOffsetStart(),
                    b.getParamOffsetEnd() - b.getParamOffsetStart(),
                    b.getUpdaterViewOffsetStart(),
                    conf,
                    List.copyOf(params)));
        }
        List<Norm> norms = new ArrayList<>();
        for (Map.Entry<Trainable, List<Param>> e : byLayer.entrySet()) {
            GradientNormalization gn = e.getKey().getConfig().getGradientNormalization();
            if (gn != null && gn != GradientNormalization.None) {
                norms.add(new Norm(
                        gn, e.getKey().getConfig().getGradientNormalizationThreshold(), List.copyOf(e.getValue())));
            }
        }
        INDArray state = u.getStateViewArray();
        return new UpdaterProgram(List.copyOf(blocks), List.copyOf(norms), state == null ? 0 : state.length());
    }

    /**
     * One DL4J update: {@code grads} (summed over {@code batch} examples) becomes the update and is subtracted from
     * {@code params}.
     */
    public void apply(
            TensorOps ops, Tensor params, Tensor grads, Tensor state, Tensor acc, int batch, int iteration, int epoch) {
        for (long[] r : divided) { // element by element: merging adjacent parameters changes no value
            ops.divide(ops.slice(grads, r[0], r[1]), batch);
        }
        for (Norm n : norms) {
            normalize(ops, n, grads, acc);
        }
        for (Block b : blocks) {
            double lr = b.updater().hasLearningRate() ? b.updater().getLearningRate(iteration, epoch) : 1.0;
            regularize(ops, b, params, grads, Regularization.ApplyStep.BEFORE_UPDATER, lr, iteration, epoch);
            Tensor g = ops.slice(grads, b.off(), b.len());
            if (b.updater() instanceof Sgd) {
                ops.scale(g, (float) lr);
            } else if (b.updater() instanceof Adam a) {
                ops.adam(
                        g,
                        ops.slice(state, b.stateOff(), b.len()),
                        ops.slice(state, b.stateOff() + b.len(), b.len()),
                        lr,
                        a.getBeta1(),
                        a.getBeta2(),
                        a.getEpsilon(),
                        iteration);
            } else if (b.updater() instanceof Nesterovs n) {
                ops.nesterovs(g, ops.slice(state, b.stateOff(), b.len()), lr, n.currentMomentum(iteration, epoch));
            }
            regularize(ops, b, params, grads, Regularization.ApplyStep.POST_UPDATER, lr, iteration, epoch);
        }
        ops.axpy(-1f, grads, params);
    }

    private static void regularize(
            TensorOps ops,
            Block b,
            Tensor params,
            Tensor grads,
            Regularization.ApplyStep step,
            double lr,
            int iteration,
            int epoch) {
        for (Param p : b.params()) {
            for (Regularization r : p.regs()) {
                if (r.applyStep() != step) {
                    continue;
                }
                Tensor w = ops.slice(params, p.off(), p.len());
                Tensor g = ops.slice(grads, p.off(), p.len());
                if (r instanceof L2Regularization l2) {
                    ops.axpy((float) l2.getL2().valueAt(iteration, epoch), w, g);
                } else if (r instanceof L1Regularization l1) {
                    ops.axpySign((float) l1.getL1().valueAt(iteration, epoch), w, g);
                } else if (r instanceof WeightDecay wd) {
                    double c = wd.getCoeff().valueAt(iteration, epoch);
                    ops.axpy((float) (wd.isApplyLR() ? c * lr : c), w, g);
                }
            }
        }
    }

    private static void normalize(TensorOps ops, Norm n, Tensor grads, Tensor acc) {
        switch (n.kind()) {
            case ClipElementWiseAbsoluteValue -> {
                for (Param p : n.params()) {
                    ops.clip(ops.slice(grads, p.off(), p.len()), (float) n.threshold());
                }
            }
            case RenormalizeL2PerLayer, ClipL2PerLayer -> {
                ops.fill(acc, 0f);
                for (Param p : n.params()) {
                    ops.sumSquares(ops.slice(grads, p.off(), p.len()), acc);
                }
                boolean clip = n.kind() == GradientNormalization.ClipL2PerLayer;
                for (Param p : n.params()) {
                    ops.normScale(ops.slice(grads, p.off(), p.len()), acc, n.threshold(), clip);
                }
            }
            case RenormalizeL2PerParamType, ClipL2PerParamType -> {
                boolean clip = n.kind() == GradientNormalization.ClipL2PerParamType;
                for (Param p : n.params()) {
                    Tensor g = ops.slice(grads, p.off(), p.len());
                    ops.fill(acc, 0f);
                    ops.sumSquares(g, acc);
                    ops.normScale(g, acc, n.threshold(), clip);
                }
            }
            default -> throw new IllegalStateException("gradient normalization " + n.kind());
        }
    }

    /** DL4J's regularisation score: sum over parameters of {@code 0.5 c |w|^2} (L2, weight decay), {@code c |w|_1}. */
    public double score(float[] params, int iteration, int epoch) {
        double s = 0;
        for (Block b : blocks) {
            for (Param p : b.params()) {
                for (Regularization r : p.regs()) {
                    double sq = 0;
                    double abs = 0;
                    for (long i = p.off(); i < p.off() + p.len(); i++) {
                        sq += (double) params[(int) i] * params[(int) i];
                        abs += Math.abs(params[(int) i]);
                    }
                    if (r instanceof L2Regularization l2) {
                        s += 0.5 * l2.getL2().valueAt(iteration, epoch) * sq;
                    } else if (r instanceof WeightDecay wd) {
                        s += 0.5 * wd.getCoeff().valueAt(iteration, epoch) * sq;
                    } else if (r instanceof L1Regularization l1) {
                        s += l1.getL1().valueAt(iteration, epoch) * abs;
                    }
                }
            }
        }
        return s;
    }

    /** True when some parameter is regularised (the score needs the parameters). */
    public boolean regularized() {
        return blocks.stream()
                .anyMatch(b -> b.params().stream().anyMatch(p -> !p.regs().isEmpty()));
    }
}
