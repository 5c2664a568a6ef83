package io.snakebridge;

/** A ref of one session was used in another; the ref stays intact in its own session (SQLState 34000). */
public class SessionMismatchException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /** The session of the connection the ref was used on. */
    private final String expectedSessionId;
    /** The session the ref belongs to. */
    private final String actualSessionId;
    /** The ref's id. */
    private final String refId;

    /**
     * Creates the exception.
     *
     * @param expectedSessionId the session of the connection the ref was used on
     * @param actualSessionId the session the ref belongs to
     * @param refId the ref's id
     * @param message which ref, and where it was used
     */
    public SessionMismatchException(String expectedSessionId, String actualSessionId, String refId, String message) {
        super("session_mismatch", "34000", message, null);
        this.expectedSessionId = expectedSessionId;
        this.actualSessionId = actualSessionId;
        this.refId = refId;
    }

    /**
     * The session of the connection the ref was used on.
     *
     * @return that session's id
     */
    public String expectedSessionId() {
        return expectedSessionId;
    }

    /**
     * The session the ref belongs to.
     *
     * @return that session's id
     */
    public String actualSessionId() {
        return actualSessionId;
    }

    /**
     * The ref that was used in the wrong session.
     *
     * @return its id
     */
    public String refId() {
        return refId;
    }
}
