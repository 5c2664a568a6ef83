package io.snakebridge;

/**
 * Told of every request a connection completes, whatever its path: a call, a ref's method, a batch,
 * an async call, a cursor's fetch, a release. For metrics and health checks: a pool learns here that
 * an async call found the worker dead. It runs on the thread that read the response (for an async
 * call, a pipeline thread), so it must be quick and must not use the connection.
 *
 * <pre>{@code
 * BridgeConfig config = BridgeConfig.builder()
 *         .requestListener((connection, op, nanos, failure) -> timer.record(nanos, TimeUnit.NANOSECONDS))
 *         .build();
 * }</pre>
 */
@FunctionalInterface
public interface RequestListener {
    /**
     * A request ended, successfully or not.
     *
     * @param connection the connection that sent it
     * @param op the protocol op (PROTOCOL.md OP-*), e.g. {@code "call"}, {@code "batch"}, {@code "stream_next"}
     * @param nanos from the request's start to its response (or failure)
     * @param failure the request's error, or null if it succeeded
     */
    void requestEnded(BridgeConnection connection, String op, long nanos, BridgeException failure);

    /**
     * The connection's worker process ended while the connection was open, whether or not a request
     * was running (a pool evicts the connection here, idle or not). Not called when the connection's
     * own close ends the worker. Runs on a JDK or driver thread; must be quick.
     *
     * @param connection the connection whose worker ended
     * @param how "exit code 1", "killed by SIGKILL", ...
     */
    default void workerEnded(BridgeConnection connection, String how) {
    }
}
