package io.qsync.backend.cuda;

import io.qsync.runtime.StepLog;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Diagnostics ({@code -Dqsync.logStepPhases=true}): where a {@link ProgramEngine}'s host thread spends each training
 * step, section by section, logged when the engine closes. Uploading the batch waits for the work still queued on the
 * stream (the previous update); launching the pass is the host's cost of starting the replayed graph; awaiting it is
 * the device's pass and the gradient's copies behind it; uploading the gradient and launching the update follow. A step
 * that is slow in one section and not the others says where its time went. Off, it records nothing.
 */
final class PassTimeline {
    /** Whether engines record their steps. */
    static final boolean ON = StepLog.ON;

    private static final String[] SECTIONS = {
        "upload batch", "launch pass", "await pass", "upload gradient", "launch update"
    };
    private static final int MAX_STEPS = 20_000;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PassTimeline.class);

    private static final AtomicInteger ENGINES = new AtomicInteger();

    /** Tells this engine's lines from another's on the same device (workers sharing a card log interleaved). */
    private final int id = ENGINES.incrementAndGet();

    private final float[][] ms = ON ? new float[SECTIONS.length][MAX_STEPS] : null;
    private int steps;
    private long t;

    /** A section starts now (the first of a step, or the first after the gradient was handed over). */
    void start() {
        t = System.nanoTime();
    }

    /** Section {@code k} ends now; the next starts. */
    void mark(int k) {
        long now = System.nanoTime();
        if (ms != null && steps < MAX_STEPS) {
            ms[k][steps] = (now - t) / 1e6f;
        }
        t = now;
    }

    /** The step ends (after its update). */
    void endStep() {
        steps++;
    }

    /** Logs every step's sections, one line per section (nothing when off or no step ran). */
    void log(String device) {
        if (ms == null || steps == 0) {
            return;
        }
        int n = Math.min(steps, MAX_STEPS);
        for (int k = 0; k < SECTIONS.length; k++) {
            LOG.info(
                    "qsync engine on {} (timeline {}) every pass's {} ms: {}",
                    device,
                    id,
                    SECTIONS[k],
                    StepLog.row(ms[k], 0, n, "%.2f"));
        }
    }
}
