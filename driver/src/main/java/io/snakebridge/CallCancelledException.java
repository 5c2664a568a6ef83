package io.snakebridge;

/** A call was cancelled by {@link BridgeConnection#cancel()} (or the worker got a SIGINT from elsewhere). */
public class CallCancelledException extends CallInterruptedException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was cancelled
     * @param workerKilled whether the worker ignored the interrupt and had to be killed (SQLState 08006, else 57014)
     * @param cause the underlying error, or null
     */
    public CallCancelledException(String message, boolean workerKilled, Throwable cause) {
        super("cancelled", message, workerKilled, cause);
    }
}
