package io.snakebridge;

/**
 * A call was interrupted: by {@link BridgeConnection#cancel()} ({@link CallCancelledException}) or a
 * timeout ({@link CallTimeoutException}). Python got a KeyboardInterrupt and the session and its refs
 * survive (SQLState 57014), unless the worker did not stop within {@code cancelGrace}: then it was
 * killed, the connection is broken and the SQLState is 08006.
 */
public abstract class CallInterruptedException extends BridgeException {
    private static final long serialVersionUID = 1L;

    private final boolean workerKilled;

    protected CallInterruptedException(String code, String message, boolean workerKilled, Throwable cause) {
        super(code, workerKilled ? "08006" : "57014", message, cause);
        this.workerKilled = workerKilled;
    }

    /** Whether the worker had to be killed (the connection is then broken). */
    public boolean workerKilled() {
        return workerKilled;
    }
}
