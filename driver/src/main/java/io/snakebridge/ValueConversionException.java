package io.snakebridge;

/** A typed accessor of {@link PyValue} was asked for a type the Python value does not have (SQLState 22018). */
public class ValueConversionException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message the type asked for, and the type the value has
     * @param cause the underlying error, or null
     */
    public ValueConversionException(String message, Throwable cause) {
        super("value_conversion", "22018", message, cause);
    }

    /**
     * Creates the exception.
     *
     * @param message the type asked for, and the type the value has
     */
    public ValueConversionException(String message) {
        this(message, null);
    }
}
