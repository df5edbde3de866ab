package io.qsync.runtime;

import io.qsync.lowprec.layers.PrecisionPlan;
import java.util.Map;

/**
 * What a {@link TrainingEngine} offers for measuring a device profile ({@code io.qsync.profile.Profiler}): switching
 * layer precisions between steps and timing every layer inside real steps. Each backend times its own way (the CPU
 * backend through the switchable layers' timing hook, a GPU backend with device events), so a device profiles itself
 * the same way whatever it is.
 */
public interface ProfilingSupport {

    /** The layers whose precision a plan may set: layer id → the layer index the clock's samples use. */
    Map<String, Integer> switchableLayers();

    /** Sets the precisions of the plan's layers (others keep theirs) for the following steps. */
    void applyPlan(PrecisionPlan plan);

    /**
     * Starts timing every switchable layer's forward and backward pass in the following steps.
     *
     * @param skip samples per layer, precision and direction to drop at the start (warm-up)
     */
    LayerClock startLayerClock(int skip);

    /**
     * Why this engine's device cannot run layers at precision {@code p} (e.g. FP8 on a card without FP8 tensor
     * cores), or null when it can. A profile leaves such precisions out of the device's menu.
     */
    default String whyCannotRun(io.qsync.lowprec.Precision p) {
        return null;
    }

    /**
     * Memory of the device this engine trains on, in bytes, when it is not the host's (a GPU); -1 for the host. A
     * profile of a device records it as the device's memory, and leaves the context term at its documented default.
     */
    default long deviceMemoryBytes() {
        return -1;
    }

    /**
     * Whether steps run differently while the layer clock is on (a GPU engine replays a recorded step without it and
     * launches every kernel with it): the profiler then times whole steps with the clock off, as training runs them,
     * and takes only the per-layer split from clocked steps.
     */
    default boolean clockChangesSteps() {
        return false;
    }
}
