package io.snakebridge;

/**
 * The base of every SnakeBridge error: unchecked, with a stable {@link #code()} (the protocol's
 * error code, see PROTOCOL.md ERR-*) and a {@link #sqlState()} chosen so that a pool evicts exactly
 * the connections whose worker is gone (SQLState class 08).
 */
public class BridgeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The protocol error code. */
    private final String code;
    /** The SQLState. */
    private final String sqlState;

    /**
     * Creates the exception.
     *
     * @param code the protocol error code, e.g. {@code unsupported}
     * @param sqlState the SQLState to report, e.g. {@code 0A000}
     * @param message what went wrong
     * @param cause the underlying error, or null
     */
    public BridgeException(String code, String sqlState, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.sqlState = sqlState;
    }

    /**
     * The protocol error code.
     *
     * @return e.g. {@code ref_not_found}; stable across versions, classify errors by it
     */
    public String code() {
        return code;
    }

    /**
     * The SQLState the JDBC facade reports for this error.
     *
     * @return five characters; class 08 means the connection can no longer be used (closed, or its worker gone)
     */
    public String sqlState() {
        return sqlState;
    }
}
