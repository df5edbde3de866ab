package io.qsync.comm;

/**
 * A collective failed: a timeout, a peer that failed or closed, or inconsistent calls between peers. The message
 * names the operation, the ranks involved and, where known, the first failure's message.
 */
public class CommException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message. */
  public CommException(String message) {
    super(message);
  }

  /** Creates an exception with a message and a cause. */
  public CommException(String message, Throwable cause) {
    super(message, cause);
  }
}
