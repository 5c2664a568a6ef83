package io.snakebridge;

/** A call ran longer than its timeout ({@code callTimeout} or {@link BridgeConnection#withCallTimeout}) and was interrupted. */
public class CallTimeoutException extends CallInterruptedException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message which call timed out, and after how long
     * @param workerKilled whether the worker ignored the interrupt and had to be killed (SQLState 08006, else 57014)
     * @param cause the underlying error, or null
     */
    public CallTimeoutException(String message, boolean workerKilled, Throwable cause) {
        super("call_timeout", message, workerKilled, cause);
    }
}
