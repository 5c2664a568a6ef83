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

    /**
     * Prepares calls of a method (or a dotted path of attributes ending in a callable) of this
     * object, as {@link BridgeConnection#prepare} does for a global name; the prepared call stays
     * usable after this handle is closed (it holds the bound method).
     *
     * @param method the method's name, or a dotted path of attributes ending in a callable
     * @return the prepared call; close it (try-with-resources) to release it
     * @throws InvalidRefException (24000) if this handle is closed
     * @throws ModuleNotAllowedException (42501) if the method is outside the session's module policy
     * @throws PythonException (38000) if the method does not resolve
     */
    PreparedCall prepare(String method);

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

    /** This object's data as an array, with dtype and shape, in one round trip (see {@link BridgeConnection#callArray}). */
    NDArray toArray();

    /** This object converted by value (as a result would be), in one round trip; it stays in Python too. */
    PyValue value();

    /** Python's {@code len(obj)}. */
    long len();

    /** Python's {@code item in obj}. */
    boolean contains(Object item);

    /** Python's {@code obj[key]}, for a key of any type (a PyTuple for a tuple key). */
    PyValue getItem(Object key);

    /** Python's {@code obj[key] = value}. */
    void setItem(Object key, Object value);

    /** Python's {@code del obj[key]}. */
    void delItem(Object key);

    /** Python's {@code repr(obj)}. */
    String repr();

    /** Python's {@code str(obj)}. */
    String str();

    /**
     * Python's {@code with obj as value: body}: calls {@code __enter__}, runs {@code body} with what
     * it returned, then {@code __exit__}. If {@code body} throws, {@code __exit__} sees the exception
     * as a Python {@code CallbackError} naming its Java type; when {@code __exit__} returns true the
     * exception is suppressed and this returns null, as in Python. The value {@code __enter__}
     * returned is released when the block ends.
     */
    <T> T withContext(java.util.function.Function<? super PyValue, ? extends T> body);

    boolean isClosed();

    @Override
    void close();
}
