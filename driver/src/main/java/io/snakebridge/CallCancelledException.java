package io.snakebridge;

/** A call was cancelled by {@link BridgeConnection#cancel()} (or the worker got a SIGINT from elsewhere). */
public class CallCancelledException extends CallInterruptedException {
    private static final long serialVersionUID = 1L;

    public CallCancelledException(String message, boolean workerKilled, Throwable cause) {
        super("cancelled", message, workerKilled, cause);
    }
}
