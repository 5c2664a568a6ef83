package io.snakebridge;

/** The session already holds {@link #limit()} refs and the policy is to reject; the new object was dropped (SQLState 54000). */
public class RefLimitExceededException extends BridgeException {
    private static final long serialVersionUID = 1L;

    private final int limit;

    public RefLimitExceededException(int limit, String message) {
        super("ref_limit", "54000", message, null);
        this.limit = limit;
    }

    public int limit() {
        return limit;
    }

    /** The {@link BridgeConfig.Builder} setting that raises the limit. */
    public String setting() {
        return "maxRefs";
    }
}
