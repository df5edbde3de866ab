package io.qsync.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.solvers.BaseOptimizer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * A DL4J {@link MultiLayerNetwork} or {@link ComputationGraph} seen as what synchronous data-parallel training needs:
 * flat parameter and gradient views, one local gradient computation, and one updater step for a given global batch
 * size. {@link #computeGradient} followed by {@link #applyUpdate} with the local batch size is exactly one
 * {@code fit(DataSet)} call of DL4J's SGD solver.
 */
public final class TrainableNetwork {
  private final Model model;
  private final MultiLayerNetwork mln;
  private final ComputationGraph graph;
  private final long[][] nonAveragedRanges;

  private TrainableNetwork(Model model) {
    this.model = model;
    this.mln = model instanceof MultiLayerNetwork m ? m : null;
    this.graph = model instanceof ComputationGraph g ? g : null;
    if (mln == null && graph == null) {
      throw new IllegalArgumentException("only MultiLayerNetwork and ComputationGraph are supported, got "
          + model.getClass().getName());
    }
    this.nonAveragedRanges = findNonAveragedRanges();
  }

  /** Wraps an initialized network. */
  public static TrainableNetwork of(Model model) {
    return new TrainableNetwork(model);
  }

  /** The wrapped network. */
  public Model model() {
    return model;
  }

  /** The flat parameter vector (a live view: writes change the network). */
  public INDArray params() {
    return model.params();
  }

  /** Number of parameters. */
  public long numParams() {
    return model.numParams();
  }

  /** The flat gradient view (a live view), filled by {@link #computeGradient}. */
  public INDArray gradientView() {
    return mln != null ? mln.getGradientsViewArray() : graph.getGradientsViewArray();
  }

  /**
   * Runs forward and backward on {@code batch}. On return {@link #gradientView()} holds the gradient summed over the
   * batch's examples (DL4J divides by the batch size in the updater) and the local score is returned.
   */
  public double computeGradient(DataSet batch) {
    if (mln != null) {
      mln.setInput(batch.getFeatures());
      mln.setLabels(batch.getLabels());
      mln.computeGradientAndScore();
      return mln.score();
    }
    graph.setInputs(batch.getFeatures());
    graph.setLabels(batch.getLabels());
    graph.computeGradientAndScore();
    return graph.score();
  }

  /**
   * Flat index ranges {@code [start, end)} of parameters whose "gradient" is a state update that DL4J does not divide
   * by the batch size (batch-norm running statistics). Data-parallel training averages these weighted by shard size.
   */
  public long[][] nonAveragedRanges() {
    return nonAveragedRanges;
  }

  /**
   * Applies the updater (learning rate, momentum, Adam state, regularization, clipping) to the current gradient view,
   * dividing it by {@code globalBatchSize}, subtracts the update from the parameters, and advances the iteration
   * counter: the rest of one DL4J SGD iteration.
   */
  public void applyUpdate(int globalBatchSize, int epoch) {
    Gradient g = mln != null ? mln.gradient() : graph.gradient();
    int iter = BaseOptimizer.getIterationCount(model);
    LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
    if (mln != null) {
      mln.getUpdater().update(mln, g, iter, epoch, globalBatchSize, ws);
    } else {
      graph.getUpdater().update(g, iter, epoch, globalBatchSize, ws);
    }
    INDArray params = model.params();
    INDArray update = g.gradient();
    params.subi(update.reshape(update.length()));
    BaseOptimizer.incrementIterationCount(model, 1);
    BaseOptimizer.applyConstraints(model);
    if (mln != null) {
      mln.clearLayersStates();
    } else {
      graph.clearLayersStates();
    }
  }

  /** Inference (test mode) outputs for {@code features}. */
  public INDArray output(INDArray features) {
    return mln != null ? mln.output(features, false) : graph.outputSingle(false, features);
  }

  /** The updater state (e.g. Adam moments) as a live flat view, or null if the updater has no state. */
  public INDArray updaterState() {
    return mln != null ? mln.getUpdater().getStateViewArray() : graph.getUpdater().getStateViewArray();
  }

  /** Sets the epoch counter (used by learning-rate schedules). */
  public void setEpoch(int epoch) {
    if (mln != null) {
      mln.setEpochCount(epoch);
    } else {
      graph.getConfiguration().setEpochCount(epoch);
    }
  }

  private long[][] findNonAveragedRanges() {
    List<long[]> out = new ArrayList<>();
    INDArray flat = model.params();
    Layer[] layers = mln != null ? mln.getLayers() : graph.getLayers();
    for (Layer l : layers) {
      for (Map.Entry<String, INDArray> e : l.paramTable(false).entrySet()) {
        if (!l.updaterDivideByMinibatch(e.getKey())) {
          long start = e.getValue().offset() - flat.offset();
          out.add(new long[] {start, start + e.getValue().length()});
        }
      }
    }
    return out.toArray(new long[0][]);
  }
}
