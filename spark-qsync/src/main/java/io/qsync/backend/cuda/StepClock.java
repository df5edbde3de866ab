package io.qsync.backend.cuda;

import io.qsync.lowprec.Precision;
import io.qsync.lowprec.train.TensorOps;
import io.qsync.runtime.LayerClock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The per-layer clock of a {@link ProgramEngine} for device profiling: while it is open, training passes run eagerly
 * and every step of a layer is timed alone (the ops' queue drained before and after it), so a sample is the layer's
 * real time on the device at its precision, launch cost included. Samples are keyed by DL4J layer index, precision and
 * direction, as the planner's {@link io.qsync.planner.cost.LayerSamples} reads them; steps that are no layer (input
 * preprocessors) are not recorded.
 */
final class StepClock implements LayerClock {
    private final TensorOps ops;
    private final Map<String, Integer> layerIndex;
    private final int skip;
    private final Map<String, List<Long>> samples = new HashMap<>();
    private final Runnable onClose;

    StepClock(TensorOps ops, Map<String, Integer> layerIndex, int skip, Runnable onClose) {
        this.ops = ops;
        this.layerIndex = layerIndex;
        this.skip = skip;
        this.onClose = onClose;
    }

    private static String key(int layer, Precision p, boolean backward) {
        return layer + "/" + p + "/" + (backward ? "bwd" : "fwd");
    }

    private static Precision precisionOf(Step s) {
        if (s instanceof DenseStep d) {
            return d.precision().precision();
        }
        return s instanceof ConvStep c ? c.precision().precision() : Precision.FP32;
    }

    /** Runs {@code work} (one direction of step {@code s}) alone on the device and records its time. */
    void time(Step s, boolean backward, Runnable work) {
        Integer layer = layerIndex.get(s.name());
        if (layer == null) {
            work.run();
            return;
        }
        ops.synchronize();
        long t0 = System.nanoTime();
        work.run();
        ops.synchronize();
        long ns = System.nanoTime() - t0;
        samples.computeIfAbsent(key(layer, precisionOf(s), backward), k -> new ArrayList<>())
                .add(ns);
    }

    @Override
    public double medianSeconds(int layer, Precision p, boolean backward) {
        return LayerClock.medianSeconds(samples.get(key(layer, p, backward)), skip);
    }

    @Override
    public int count(int layer, Precision p, boolean backward) {
        List<Long> l = samples.get(key(layer, p, backward));
        return l == null ? 0 : l.size();
    }

    /** A device clock cannot tell CPU contention: 1. */
    @Override
    public double cpuShare() {
        return 1;
    }

    @Override
    public void reset() {
        samples.clear();
    }

    @Override
    public void close() {
        onClose.run();
    }
}
