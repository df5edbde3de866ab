package io.qsync.spark;

import io.qsync.runtime.EpochStats;
import io.qsync.runtime.ProgressSink;
import java.io.PrintStream;

/** Prints a live progress line (carriage-return updated) and one line per finished epoch. */
public final class ConsoleProgress implements ProgressSink {
  private final PrintStream out;
  private final int epochs;

  /** Prints to {@code out}; {@code epochs} is the planned number of epochs. */
  public ConsoleProgress(PrintStream out, int epochs) {
    this.out = out;
    this.epochs = epochs;
  }

  @Override
  public synchronized void step(int epoch, int step, int stepsPerEpoch, double loss, double samplesPerSecond) {
    if (stepsPerEpoch <= 0) {
      return;
    }
    int width = 30;
    int done = (int) ((long) (step + 1) * width / stepsPerEpoch);
    out.printf("\r[epoch %d/%d] [%s%s] %3d%% step %d/%d loss %.4f %.0f samples/s ", epoch + 1, epochs,
        "#".repeat(done), ".".repeat(width - done), (step + 1) * 100 / stepsPerEpoch, step + 1, stepsPerEpoch, loss,
        samplesPerSecond);
    out.flush();
  }

  @Override
  public synchronized void epoch(EpochStats stats) {
    out.println();
    out.println(stats.describe());
    out.flush();
  }

  @Override
  public void close() {
    out.flush();
  }
}
