package io.snakebridge;

import java.util.List;
import java.util.Map;

/**
 * A Python object that stays in the worker: cursor-like and {@link AutoCloseable}. Pass it as an
 * argument and Python receives the original object. {@link #close()} releases it (idempotent);
 * a closed handle, or one whose connection is closed, fails fast without a round trip. A handle that
 * becomes unreachable without {@code close()} is released with the connection's next request.
 */
public interface RefHandle extends AutoCloseable {

    String id();

    String sessionId();

    /** The Python type's qualified name, e.g. {@code Pattern}. */
    String typeName();

    /** The module the type is defined in, e.g. {@code re}. */
    String pythonModule();

    /** Calls a method (or a dotted path of attributes ending in a callable). */
    PyValue call(String method, Object... args);

    PyValue call(String method, List<?> args, Map<String, ?> kwargs);

    /** Calls a method and keeps its result in Python. */
    RefHandle callRef(String method, Object... args);

    PyValue getAttr(String name);

    void setAttr(String name, Object value);

    /**
     * Reads this object's items in batches of {@code fetchSize} per round trip, as a JDBC cursor
     * would. A generator or iterator ref is read directly and the cursor takes it over (closing the
     * cursor releases it); any other iterable is read through a fresh {@code iter()} of it.
     */
    PyCursor iterate(int fetchSize);

    boolean isClosed();

    @Override
    void close();
}
