package io.snakebridge;

/** A ref that cannot be used at all: malformed, without an id, or a closed handle (SQLState 22023; 24000 for a closed handle). */
public class InvalidRefException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /** What is wrong with the ref. */
    public enum Reason {
        /** The ref payload is not a ref. */
        MALFORMED,
        /** The ref payload has no id. */
        MISSING_ID,
        /** The handle, or the connection it belongs to, was closed; detected without a round trip. */
        CLOSED_HANDLE
    }

    /** What is wrong with the ref. */
    private final Reason reason;

    /**
     * Creates the exception.
     *
     * @param reason what is wrong with the ref; {@link Reason#CLOSED_HANDLE} gives SQLState 24000, the others 22023
     * @param message which ref, and what is wrong with it
     */
    public InvalidRefException(Reason reason, String message) {
        super("invalid_ref", reason == Reason.CLOSED_HANDLE ? "24000" : "22023", message, null);
        this.reason = reason;
    }

    /**
     * What is wrong with the ref.
     *
     * @return the reason, never null
     */
    public Reason reason() {
        return reason;
    }
}
