package io.snakebridge;

import io.snakebridge.internal.CallbackDispatcher;

/**
 * A Java function Python may keep and call later: during any later call on the same connection, not
 * only the one it was passed to (event handlers, hooks, listeners). Make one with
 * {@link BridgeConnection#exportCallback(Object)} and pass it as an argument; Python receives a
 * callable. It lives until {@link #close()}, or until the session ends (connection closed, reset, or
 * returned to its pool); Python's calls after that raise {@code CallbackError}. It runs on the thread
 * whose call is running when Python calls it (PROTOCOL.md CB-6).
 *
 * <pre>{@code
 * try (ExportedCallback onEvent = py.exportCallback((Consumer<Object>) events::add)) {
 *     py.call("mymodule.subscribe", onEvent);   // Python keeps it
 *     py.call("mymodule.publish", "hello");     // and calls it during this later call
 * }
 * }</pre>
 */
public final class ExportedCallback implements AutoCloseable {
    private final CallbackDispatcher dispatcher;
    private final String id;
    private final int arity;

    ExportedCallback(CallbackDispatcher dispatcher, String id, int arity) {
        this.dispatcher = dispatcher;
        this.id = id;
        this.arity = arity;
    }

    String id() {
        return id;
    }

    int arity() {
        return arity;
    }

    CallbackDispatcher dispatcher() {
        return dispatcher;
    }

    /**
     * Whether Python can still call it: not closed, and its session has not ended.
     *
     * @return true while it is callable
     */
    public boolean isOpen() {
        return dispatcher.isExported(id);
    }

    /** Ends it: Python's later calls raise {@code CallbackError} without running it. Idempotent. */
    @Override
    public void close() {
        dispatcher.unexport(id);
    }

    @Override
    public String toString() {
        return "ExportedCallback[" + id + (isOpen() ? "" : ", closed") + "]";
    }
}
