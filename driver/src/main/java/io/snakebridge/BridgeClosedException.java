package io.snakebridge;

/** The connection was used after it was closed or broken (SQLState 08003). */
public class BridgeClosedException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was used, and why the connection is closed
     * @param cause the error that broke the connection or ended the call, or null
     */
    public BridgeClosedException(String message, Throwable cause) {
        super("connection_closed", "08003", message, cause);
    }

    /**
     * Creates the exception.
     *
     * @param message what was used, and why the connection is closed
     */
    public BridgeClosedException(String message) {
        this(message, null);
    }
}
