package io.qsync.runtime;

/**
 * Where a job's {@link Checkpoint}s are kept (e.g. a directory of a Hadoop file system). Rank 0 writes; every rank
 * reads the one rank 0 names when a job (or a retried attempt of it) starts.
 */
public interface CheckpointStore {

    /** The step of the newest complete checkpoint, or -1 if there is none. */
    long latestStep();

    /** Reads the checkpoint of {@code step}. */
    Checkpoint load(long step);

    /** Writes {@code c} atomically (a reader sees all of it or nothing) and may drop older ones. */
    void save(Checkpoint c);
}
