package io.snakebridge;

/**
 * A call ran longer than its timeout and was interrupted (KeyboardInterrupt inside Python). The
 * session and its refs survive (SQLState 57014), unless the worker did not answer within
 * {@code cancelGrace}: then it was killed, the connection is broken and the SQLState is 08006.
 */
public class CallTimeoutException extends BridgeException {
    private static final long serialVersionUID = 1L;

    private final boolean workerKilled;

    public CallTimeoutException(String message, boolean workerKilled, Throwable cause) {
        super("call_timeout", workerKilled ? "08006" : "57014", message, cause);
        this.workerKilled = workerKilled;
    }

    /** Whether the worker had to be killed (the connection is then broken). */
    public boolean workerKilled() {
        return workerKilled;
    }
}
