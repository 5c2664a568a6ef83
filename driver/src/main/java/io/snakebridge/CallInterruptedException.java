package io.snakebridge;

/**
 * A call was interrupted: by {@link BridgeConnection#cancel()} ({@link CallCancelledException}) or a
 * timeout ({@link CallTimeoutException}). Python got a KeyboardInterrupt and the session and its refs
 * survive (SQLState 57014), unless the worker did not stop within {@code cancelGrace}: then it was
 * killed, the connection is broken and the SQLState is 08006.
 */
public abstract class CallInterruptedException extends BridgeException {
    private static final long serialVersionUID = 1L;

    /** Whether the worker had to be killed. */
    private final boolean workerKilled;

    /**
     * Creates the exception.
     *
     * @param code the protocol error code ({@code cancelled} or {@code call_timeout})
     * @param message what was interrupted
     * @param workerKilled whether the worker had to be killed; chooses the SQLState, 08006 if so, else 57014
     * @param cause the underlying error, or null
     */
    protected CallInterruptedException(String code, String message, boolean workerKilled, Throwable cause) {
        super(code, workerKilled ? "08006" : "57014", message, cause);
        this.workerKilled = workerKilled;
    }

    /**
     * Whether the worker had to be killed.
     *
     * @return true if the worker was killed and the connection is broken (SQLState 08006); false if
     *         Python stopped the call and the session survives (SQLState 57014)
     */
    public boolean workerKilled() {
        return workerKilled;
    }
}
