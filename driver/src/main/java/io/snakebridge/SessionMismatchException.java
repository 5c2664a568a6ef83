package io.snakebridge;

/** A ref of one session was used in another; the ref stays intact in its own session (SQLState 34000). */
public class SessionMismatchException extends BridgeException {
    private static final long serialVersionUID = 1L;

    private final String expectedSessionId;
    private final String actualSessionId;
    private final String refId;

    public SessionMismatchException(String expectedSessionId, String actualSessionId, String refId, String message) {
        super("session_mismatch", "34000", message, null);
        this.expectedSessionId = expectedSessionId;
        this.actualSessionId = actualSessionId;
        this.refId = refId;
    }

    /** The session of the connection the ref was used on. */
    public String expectedSessionId() {
        return expectedSessionId;
    }

    /** The session the ref belongs to. */
    public String actualSessionId() {
        return actualSessionId;
    }

    public String refId() {
        return refId;
    }
}
