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

    private final String refId;
    private final String sessionId;
    private final Reason reason;

    public RefNotFoundException(String refId, String sessionId, Reason reason, String message) {
        super("ref_not_found", "34000", message, null);
        this.refId = refId;
        this.sessionId = sessionId;
        this.reason = reason;
    }

    public String refId() {
        return refId;
    }

    public String sessionId() {
        return sessionId;
    }

    public Reason reason() {
        return reason;
    }
}
