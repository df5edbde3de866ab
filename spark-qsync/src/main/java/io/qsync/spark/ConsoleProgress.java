package io.qsync.spark;

import io.qsync.runtime.EpochStats;
import io.qsync.runtime.ProgressSink;
import java.io.PrintStream;

/**
 * Prints training progress and one line per finished epoch. On a terminal the progress line is redrawn in place
 * ({@code \r}); otherwise (a log file, a pipe, a notebook) a plain line is printed at every tenth of an epoch.
 */
public final class ConsoleProgress implements ProgressSink {
    private final PrintStream out;
    private final int epochs;
    private final boolean live;
    private int lastTenth = -1;

    /** Prints to {@code out}; {@code epochs} is the planned number of epochs. Live only on a terminal. */
    public ConsoleProgress(PrintStream out, int epochs) {
        this(out, epochs, out == System.out && System.console() != null);
    }

    /** As above, choosing between the live line ({@code live}) and plain lines. */
    public ConsoleProgress(PrintStream out, int epochs, boolean live) {
        this.out = out;
        this.epochs = epochs;
        this.live = live;
    }

    @Override
    public synchronized void step(int epoch, int step, int stepsPerEpoch, double loss, double samplesPerSecond) {
        if (stepsPerEpoch <= 0) {
            return;
        }
        int width = 30;
        int done = (int) ((long) (step + 1) * width / stepsPerEpoch);
        String line = String.format(
                "[epoch %d/%d] [%s%s] %3d%% step %d/%d loss %.4f %.0f samples/s",
                epoch + 1,
                epochs,
                "#".repeat(done),
                ".".repeat(width - done),
                (step + 1) * 100 / stepsPerEpoch,
                step + 1,
                stepsPerEpoch,
                loss,
                samplesPerSecond);
        if (live) {
            out.print("\r" + line + " ");
        } else {
            int tenth = (int) ((long) (step + 1) * 10 / stepsPerEpoch);
            if (tenth == lastTenth) {
                return;
            }
            lastTenth = tenth;
            out.println(line);
        }
        out.flush();
    }

    @Override
    public synchronized void epoch(EpochStats stats) {
        if (live) {
            out.println();
        }
        lastTenth = -1;
        out.println(stats.describe());
        out.flush();
    }

    @Override
    public void close() {
        out.flush();
    }
}
