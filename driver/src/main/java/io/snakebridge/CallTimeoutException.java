package io.snakebridge;

/** A call ran longer than its timeout ({@code callTimeout} or {@link BridgeConnection#withCallTimeout}) and was interrupted. */
public class CallTimeoutException extends CallInterruptedException {
    private static final long serialVersionUID = 1L;

    public CallTimeoutException(String message, boolean workerKilled, Throwable cause) {
        super("call_timeout", message, workerKilled, cause);
    }
}
