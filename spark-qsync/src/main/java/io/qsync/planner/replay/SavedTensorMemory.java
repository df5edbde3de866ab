package io.qsync.planner.replay;

import io.qsync.lowprec.Precision;

/**
 * QSync-style memory model (§5.6): each layer keeps its input for backward at its compute precision (INT8 layers keep
 * the quantized input, 1 byte per element) plus a low-precision copy of its weights; plan-independent state is FP32
 * weights, gradients and updater state, the network output and the largest layer's backward temporaries, plus a fixed
 * context (CUDA context / JVM and ND4J workspaces).
 *
 * @param contextBytes fixed per-worker bytes
 */
public record SavedTensorMemory(long contextBytes) implements MemoryEstimator {
  /** Default with a 512 MiB context. */
  public SavedTensorMemory() {
    this(512L << 20);
  }

  @Override
  public long baseBytes(PlanGraph g, int batch) {
    long state = 0;
    long largest = 0;
    for (PlanNode n : g.nodes()) {
      state += 4L * (2 * n.paramCount() + n.updaterStateSize());
      largest = Math.max(largest, n.outputElements());
    }
    long output = g.nodes().isEmpty() ? 0 : g.nodes().get(g.nodes().size() - 1).outputElements();
    return contextBytes + state + 4L * batch * (output + 2 * largest);
  }

  @Override
  public long layerBytes(PlanNode n, Precision p, int batch) {
    long saved = (long) p.storageBytes() * n.inputElements() * batch;
    long weightCopy = p == Precision.FP32 ? 0 : (long) p.storageBytes() * n.weightCount();
    return saved + weightCopy;
  }
}
