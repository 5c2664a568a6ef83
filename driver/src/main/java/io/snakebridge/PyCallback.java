package io.snakebridge;

import java.util.List;
import java.util.Map;

/**
 * A Java function that Python can call, with positional and keyword arguments. Pass it (or a
 * {@link java.util.function.Function}, {@code BiFunction}, {@code Supplier}, {@code Consumer} or
 * {@link Runnable}) as an argument and Python receives a callable:
 *
 * <pre>{@code
 * py.call("sorted", List.of(List.of("bb", "a")), Map.of("key", (Function<String, Integer>) String::length));
 * }</pre>
 *
 * It runs on the thread that made the outer call, while that call waits, and may itself call Python
 * on the same connection. An exception it throws is raised in Python as {@code CallbackError}; if
 * Python does not catch it, the caller gets a {@link PythonException} caused by the original
 * exception. A callback can only be called while the call it was passed to runs.
 */
@FunctionalInterface
public interface PyCallback {
    /**
     * Runs the callback for one Python call of it.
     *
     * @param args the positional arguments, decoded as a call's result would be
     * @param kwargs the keyword arguments by name
     * @return the result Python receives, encoded as an argument would be (null for None)
     * @throws Exception anything: Python receives it as {@code CallbackError}
     */
    Object call(List<Object> args, Map<String, Object> kwargs) throws Exception;
}
