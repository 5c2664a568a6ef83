package io.snakebridge;

/**
 * The worker could not be started or did not complete the handshake (SQLState 08001). A remote worker
 * server may refuse for a reason of its own: SQLState 28000 when it does not accept this client's
 * token or certificate, 53300 when it already runs as many workers as it may (README "Remote workers").
 */
public class WorkerStartException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message which interpreter, and why it did not start
     * @param cause the underlying error, or null
     */
    public WorkerStartException(String message, Throwable cause) {
        this(message, "08001", cause);
    }

    /**
     * Creates the exception.
     *
     * @param message which interpreter, and why it did not start
     */
    public WorkerStartException(String message) {
        this(message, null);
    }

    /**
     * A start failure with its own SQLState.
     *
     * @param message what failed, and why
     * @param sqlState 08001 (could not connect or start), 28000 (refused this client), 53300 (too many workers)
     * @param cause the underlying failure, or null
     */
    public WorkerStartException(String message, String sqlState, Throwable cause) {
        super("worker_start", sqlState, message, cause);
    }
}
