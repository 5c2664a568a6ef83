package io.snakebridge;

/** A value cannot cross the bridge: an unsupported Java type, a nesting or size cap, or a Python result that cannot be sent (SQLState 22023). */
public class InvalidValueException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message which value, and why it cannot cross
     * @param cause the underlying error, or null
     */
    public InvalidValueException(String message, Throwable cause) {
        super("invalid_value", "22023", message, cause);
    }

    /**
     * Creates the exception.
     *
     * @param message which value, and why it cannot cross
     */
    public InvalidValueException(String message) {
        this(message, null);
    }
}
