package io.snakebridge;

/**
 * A call was cancelled by {@link BridgeConnection#cancel()} (KeyboardInterrupt inside Python). The
 * session and its refs survive (SQLState 57014), unless the worker did not answer within
 * {@code cancelGrace}: then it was killed, the connection is broken and the SQLState is 08006.
 */
public class CallCancelledException extends BridgeException {
    private static final long serialVersionUID = 1L;

    private final boolean workerKilled;

    public CallCancelledException(String message, boolean workerKilled, Throwable cause) {
        super("cancelled", workerKilled ? "08006" : "57014", message, cause);
        this.workerKilled = workerKilled;
    }

    /** Whether the worker had to be killed (the connection is then broken). */
    public boolean workerKilled() {
        return workerKilled;
    }
}
