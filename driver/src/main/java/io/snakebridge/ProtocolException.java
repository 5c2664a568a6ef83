package io.snakebridge;

/** A peer broke the wire protocol; the connection is broken and closed (SQLState 08P01). */
public class ProtocolException extends BridgeException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message, Throwable cause) {
        super("protocol", "08P01", message, cause);
    }

    public ProtocolException(String message) {
        this(message, null);
    }
}
