package io.snakebridge;

/**
 * The entry point: {@code try (BridgeConnection py = SnakeBridge.connect()) { ... }}.
 * Each connection starts its own CPython worker process and holds one session with it.
 */
public final class SnakeBridge {
    private SnakeBridge() {
    }

    /**
     * The directory holding this release's worker package ({@code snakebridge_worker}), for running
     * it standalone: {@code PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=<dir> python3 -m snakebridge_worker}
     * (bytecode written next to the driver's private copy would fail its check before the next
     * start, which then extracts the copy again).
     *
     * @return the directory to put on the worker's {@code PYTHONPATH}
     */
    public static java.nio.file.Path referenceWorkerPath() {
        return io.snakebridge.internal.WorkerSources.directory();
    }

    /**
     * Starts a worker with {@link BridgeConfig#defaults()}.
     *
     * @return a connection with one session; close it to stop the worker
     * @throws WorkerStartException (SQLState 08001) as {@link #connect(BridgeConfig)}
     */
    public static BridgeConnection connect() {
        return connect(BridgeConfig.defaults());
    }

    /**
     * Starts a worker and opens a session.
     *
     * @param config the settings the worker starts with
     * @return a connection with one session; close it to stop the worker
     * @throws WorkerStartException (SQLState 08001) if the interpreter is missing, too old, or the worker does not
     *     answer within {@link BridgeConfig#startTimeout()}; the message names the interpreter and
     *     shows its stderr
     */
    public static BridgeConnection connect(BridgeConfig config) {
        return WorkerConnection.open(config);
    }
}
