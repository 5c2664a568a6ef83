package io.snakebridge;

/** The session already holds {@link #limit()} refs and the policy is to reject; the new object was dropped (SQLState 54000). */
public class RefLimitExceededException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /** The ref limit that was reached. */
    private final int limit;

    /**
     * Creates the exception.
     *
     * @param limit the session's ref limit that was reached
     * @param message what was refused, naming the setting that raises the limit
     */
    public RefLimitExceededException(int limit, String message) {
        super("ref_limit", "54000", message, null);
        this.limit = limit;
    }

    /**
     * The limit that was reached.
     *
     * @return the most live refs the session may hold ({@code maxRefs})
     */
    public int limit() {
        return limit;
    }

    /**
     * The {@link BridgeConfig.Builder} setting that raises the limit: up to the limit of a remote
     * worker's server ({@code serve --max-refs}), which no client setting raises; the message says
     * when that is the limit reached.
     *
     * @return {@code "maxRefs"}
     */
    public String setting() {
        return "maxRefs";
    }
}
