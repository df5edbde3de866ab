package io.qsync.backend.cuda;

import io.qsync.lowprec.train.TensorOps;

/**
 * Runs a training pass eagerly the first time a batch size is seen (buffers are allocated then), records it as a
 * replayable graph ({@link TensorOps#capture}) the second time, and replays the recording from then on. If recording
 * fails (ops that cannot record, or a step that cannot be recorded), every later pass runs eagerly and
 * {@link #state()} says why.
 */
final class PassReplay implements AutoCloseable {
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
    private TensorOps.Replay replay;
    private int replayRows = -1;
    private int eagerRows = -1;
    private String offWhy;

    PassReplay(TensorOps ops, boolean on) {
        this.ops = ops;
        this.on = on;
        this.offWhy = on ? null : "turned off";
    }

    Ran run(int rows, Runnable pass) {
        if (on && replay != null && replayRows == rows) {
            replay.launch();
            return Ran.REPLAYED;
        }
        if (on && eagerRows == rows) {
            forget();
            try {
                replay = ops.capture(pass);
            } catch (RuntimeException e) {
                offWhy = e.toString();
            }
            if (replay != null) {
                replayRows = rows;
                replay.launch();
                return Ran.RECORDED;
            }
            on = false;
            if (offWhy == null) {
                offWhy = "these ops do not record";
            }
        }
        pass.run();
        eagerRows = rows;
        return Ran.EAGER;
    }

    /** Drops the recording (the program changed); the next pass of each batch size runs eagerly again. */
    void forget() {
        if (replay != null) {
            replay.close();
            replay = null;
        }
        replayRows = -1;
    }

    /** Forgets the recording and the batch size seen eagerly: the next pass runs eagerly. */
    void reset() {
        forget();
        eagerRows = -1;
    }

    /** Whether passes are (or may yet be) replayed: false once recording was turned off or failed. */
    boolean mayReplay() {
        return on;
    }

    String state() {
        return replay != null && on ? "replayed (batch " + replayRows + ")" : "eager: " + offWhy;
    }

    @Override
    public void close() {
        forget();
    }
}
