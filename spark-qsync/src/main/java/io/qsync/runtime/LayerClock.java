package io.qsync.runtime;

import io.qsync.planner.cost.LayerSamples;

/** Per-layer timing of an engine's steps while it is open; {@link #close()} stops recording (samples stay). */
public interface LayerClock extends LayerSamples, AutoCloseable {

    /** Forgets all samples. */
    void reset();

    /** Stops recording. */
    @Override
    void close();
}
