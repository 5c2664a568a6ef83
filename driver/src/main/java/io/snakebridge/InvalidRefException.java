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

    private final Reason reason;

    public InvalidRefException(Reason reason, String message) {
        super("invalid_ref", reason == Reason.CLOSED_HANDLE ? "24000" : "22023", message, null);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
