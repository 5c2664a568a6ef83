package io.snakebridge;

/**
 * The base of every SnakeBridge error: unchecked, with a stable {@link #code()} (the protocol's
 * error code, see PROTOCOL.md ERR-*) and a {@link #sqlState()} chosen so that a pool evicts exactly
 * the connections whose worker is gone (SQLState class 08).
 */
public class BridgeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String code;
    private final String sqlState;

    public BridgeException(String code, String sqlState, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.sqlState = sqlState;
    }

    /** The protocol error code, e.g. {@code ref_not_found}. */
    public String code() {
        return code;
    }

    /** The SQLState the JDBC facade reports for this error. */
    public String sqlState() {
        return sqlState;
    }
}
