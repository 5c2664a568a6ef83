package io.snakebridge;

/** The connection was used after it was closed or broken (SQLState 08003). */
public class BridgeClosedException extends BridgeException {
    private static final long serialVersionUID = 1L;

    public BridgeClosedException(String message, Throwable cause) {
        super("connection_closed", "08003", message, cause);
    }

    public BridgeClosedException(String message) {
        this(message, null);
    }
}
