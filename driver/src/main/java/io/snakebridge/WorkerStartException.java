package io.snakebridge;

/** The worker could not be started or did not complete the handshake (SQLState 08001). */
public class WorkerStartException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message which interpreter, and why it did not start
     * @param cause the underlying error, or null
     */
    public WorkerStartException(String message, Throwable cause) {
        super("worker_start", "08001", message, cause);
    }

    /** @param message which interpreter, and why it did not start */
    public WorkerStartException(String message) {
        this(message, null);
    }
}
