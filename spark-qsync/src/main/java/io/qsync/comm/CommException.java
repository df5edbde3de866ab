package io.qsync.comm;

/**
 * A collective failed: a timeout, a peer that failed or closed, or inconsistent calls between peers. The message
 * names the operation, the ranks involved and, where known, the first failure's message.
 */
public class CommException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean reportedByPeer;

    /** Creates an exception with a message. */
    public CommException(String message) {
        this(message, null, false);
    }

    /** Creates an exception with a message and a cause. */
    public CommException(String message, Throwable cause) {
        this(message, cause, false);
    }

    /**
     * Creates an exception; {@code reportedByPeer} says that a live peer sent the failure's reason over the ring (an
     * ABORT notice), as opposed to a timeout or a closed connection that this rank detected itself.
     */
    public CommException(String message, Throwable cause, boolean reportedByPeer) {
        super(message, cause);
        this.reportedByPeer = reportedByPeer;
    }

    /**
     * True if a peer reported its own failure over the ring (it is alive and fails its task itself); false for failures
     * this rank detected (timeout, closed connection, protocol error), which mean a stalled or dead peer.
     */
    public boolean reportedByPeer() {
        return reportedByPeer;
    }
}
