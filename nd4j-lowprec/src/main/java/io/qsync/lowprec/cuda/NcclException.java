package io.qsync.lowprec.cuda;

/**
 * An NCCL collective or communicator set-up that failed, timed out or was aborted; the message names the operation,
 * the rank and size, and the cause. After one, the {@link NcclGroup} is aborted: only {@link NcclGroup#close()} may
 * follow.
 */
public final class NcclException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** The deadline passed before the operation finished (a peer is stalled, dead or never started). */
        TIMEOUT,
        /** {@link NcclGroup#abort(String)} was called (or the calling thread was interrupted). */
        ABORTED,
        /** Another rank aborted or failed and left its reason (the message carries it). */
        PEER_ABORTED,
        /** NCCL or CUDA reported an error. */
        FAILED
    }

    private final Kind kind;

    /**
     * @param kind    what went wrong
     * @param message operation, rank, size and cause
     */
    public NcclException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    /** @return what went wrong */
    public Kind kind() {
        return kind;
    }
}
