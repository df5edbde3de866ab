package io.qsync.runtime;

/** Receives live progress from rank 0 (typically forwarded to the driver, which prints a progress line). */
public interface ProgressSink extends AutoCloseable {

    /** A sink that drops everything. */
    ProgressSink NONE = new ProgressSink() {
        @Override
        public void step(int epoch, int step, int stepsPerEpoch, double loss, double samplesPerSecond) {}

        @Override
        public void epoch(EpochStats stats) {}

        @Override
        public void close() {}
    };

    /** After each step. */
    void step(int epoch, int step, int stepsPerEpoch, double loss, double samplesPerSecond);

    /** After each epoch. */
    void epoch(EpochStats stats);

    /** Releases resources; never throws. */
    @Override
    void close();
}
