package io.qsync.backend.cuda;

import io.qsync.lowprec.train.TensorOps;
import io.qsync.runtime.RecentBySize;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Runs a training pass eagerly the first time a batch size is seen (buffers are allocated then), records it as a
 * replayable graph ({@link TensorOps#capture}) the second time, and replays that size's recording from then on. A
 * recording is kept per batch size (up to {@link #MAX_RECORDINGS}, the least recently used one freed beyond): an epoch
 * whose rows do not divide evenly gives each worker two sizes that alternate (254 and 255 rows of 30 000 over 118
 * steps), and with one recording every change of size re-recorded it. That cost a slow step every three or four (a
 * capture and instantiation, about 3 ms on an H100; RESULTS §12k). Buffers grown by a larger pass are retired, not
 * freed, so an older size's recording stays valid. If recording fails (ops that cannot record, or a step that cannot
 * be recorded), every later pass runs eagerly and {@link #state()} says why.
 */
final class PassReplay implements AutoCloseable {
    /** Batch sizes whose recordings are kept at once. */
    static final int MAX_RECORDINGS = 4;

    /** How a pass ran. */
    enum Ran {
        /** The body ran on the ops directly. */
        EAGER,
        /** The body ran under capture and the recording was launched once. */
        RECORDED,
        /** The recording was launched; the body did not run. */
        REPLAYED
    }

    private final TensorOps ops;
    private boolean on;
    private final RecentBySize<TensorOps.Replay> replays = new RecentBySize<>(MAX_RECORDINGS, TensorOps.Replay::close);
    private final Set<Integer> seenEagerly = new HashSet<>();
    private String offWhy;

    PassReplay(TensorOps ops, boolean on) {
        this.ops = ops;
        this.on = on;
        this.offWhy = on ? null : "turned off";
    }

    Ran run(int rows, Runnable pass) {
        if (on) {
            TensorOps.Replay replay = replays.get(rows);
            if (replay != null) {
                replay.launch();
                return Ran.REPLAYED;
            }
            if (seenEagerly.contains(rows)) {
                try {
                    replay = ops.capture(pass);
                } catch (RuntimeException e) {
                    offWhy = e.toString();
                }
                if (replay != null) {
                    replays.put(rows, replay);
                    replay.launch();
                    return Ran.RECORDED;
                }
                on = false;
                forget();
                if (offWhy == null) {
                    offWhy = "these ops do not record";
                }
            }
        }
        pass.run();
        seenEagerly.add(rows);
        return Ran.EAGER;
    }

    /** Drops the recordings (the program changed); the next pass of each batch size seen eagerly records again. */
    void forget() {
        replays.clear();
    }

    /** Forgets the recordings and the batch sizes seen eagerly: the next pass runs eagerly. */
    void reset() {
        forget();
        seenEagerly.clear();
    }

    /** Whether passes are (or may yet be) replayed: false once recording was turned off or failed. */
    boolean mayReplay() {
        return on;
    }

    String state() {
        return on && !replays.isEmpty()
                ? "replayed (batch " + sizes() + ")"
                : "eager: " + (on ? "none recorded" : offWhy);
    }

    private String sizes() {
        return replays.sizes().stream().map(String::valueOf).collect(Collectors.joining(", "));
    }

    @Override
    public void close() {
        forget();
    }
}
