package io.snakebridge;

import java.util.List;
import java.util.Map;

/**
 * One session with one CPython worker process. Safe to share between threads: calls are
 * serialized. Close it with try-with-resources; closing releases the session, closes every
 * {@link RefHandle} of it and stops the worker.
 *
 * <pre>{@code
 * try (BridgeConnection py = SnakeBridge.connect()) {
 *     double root = py.call("math.sqrt", 2.0).asDouble();
 *     try (RefHandle rx = py.callRef("re.compile", "a+b")) {
 *         boolean matched = !rx.call("fullmatch", "aab").isNone();
 *     }
 * }
 * }</pre>
 */
public interface BridgeConnection extends AutoCloseable {

    /** Calls a function, class or any callable by dotted name ({@code "os.path.join"}, {@code "collections.OrderedDict.fromkeys"}). */
    PyValue call(String dottedName, Object... args);

    /** Calls with keyword arguments. */
    PyValue call(String dottedName, List<?> args, Map<String, ?> kwargs);

    /** Calls and keeps the result in Python, whatever its type. */
    RefHandle callRef(String dottedName, Object... args);

    /** Reads a module attribute or a dotted path from one ({@code "math.pi"}, {@code "sys.version_info.major"}). */
    PyValue getAttr(String dottedName);

    /** The number of refs this session holds in the worker, asked of the worker. */
    int liveRefs();

    /** Checks that the worker answers. */
    void ping();

    /** This session's id: unguessable, and new after every reset. */
    String sessionId();

    boolean isClosed();

    /** Releases the session and stops the worker. Idempotent; never throws. */
    @Override
    void close();
}
