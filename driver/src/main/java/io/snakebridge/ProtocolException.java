package io.snakebridge;

/** A peer broke the wire protocol; the connection is broken and closed (SQLState 08P01). */
public class ProtocolException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what broke the protocol
     * @param cause the underlying error, or null
     */
    public ProtocolException(String message, Throwable cause) {
        super("protocol", "08P01", message, cause);
    }

    /**
     * Creates the exception.
     *
     * @param message what broke the protocol
     */
    public ProtocolException(String message) {
        this(message, null);
    }
}
