package io.snakebridge;

import java.util.Locale;

/** The worker has no object for this ref, and says why (SQLState 34000). */
public class RefNotFoundException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /** Why a ref is gone. */
    public enum Reason {
        /** {@link RefHandle#close()} or a release released it. */
        RELEASED,
        /** It was idle longer than {@code refTtl}. */
        EXPIRED,
        /** The {@code EVICT_LRU} limit policy evicted it to make room. */
        EVICTED,
        /** Its session was released: the connection was closed or reset (returned to a pool). */
        SESSION_RELEASED,
        /** The worker process that held it is gone. */
        WORKER_RESTARTED,
        /** The worker never issued this id, or forgot it (its memory of removed ids is bounded). */
        UNKNOWN;

        static Reason fromWire(String reason) {
            try {
                return reason == null ? UNKNOWN : valueOf(reason.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                return UNKNOWN;
            }
        }
    }

    /** The gone ref's id, or null. */
    private final String refId;
    /** Its session's id, or null. */
    private final String sessionId;
    /** Why it is gone. */
    private final Reason reason;

    /**
     * Creates the exception.
     *
     * @param refId the id of the ref that is gone, or null if the worker did not say
     * @param sessionId the session the ref belonged to, or null if the worker did not say
     * @param reason why it is gone
     * @param message which ref, and why it is gone
     */
    public RefNotFoundException(String refId, String sessionId, Reason reason, String message) {
        super("ref_not_found", "34000", message, null);
        this.refId = refId;
        this.sessionId = sessionId;
        this.reason = reason;
    }

    /**
     * The ref that is gone.
     *
     * @return its id, or null if the worker did not say
     */
    public String refId() {
        return refId;
    }

    /**
     * The session the ref belonged to.
     *
     * @return the session's id, or null if the worker did not say
     */
    public String sessionId() {
        return sessionId;
    }

    /**
     * Why the ref is gone.
     *
     * @return the reason; {@link Reason#UNKNOWN} when the worker gave none this driver knows
     */
    public Reason reason() {
        return reason;
    }
}
