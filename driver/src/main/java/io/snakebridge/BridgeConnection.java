package io.snakebridge;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

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

    /**
     * Calls and brings the result back as an array in one round trip: a numpy array (strided or
     * big-endian ones too), anything {@code numpy.asarray} accepts, or, without numpy, any object
     * with the buffer protocol. A dtype the protocol lacks (complex, object, strings) is an
     * {@link InvalidValueException} that names the supported ones.
     */
    NDArray callArray(String dottedName, Object... args);

    /**
     * Calls without waiting: the call is queued and written as soon as the connection is free, and
     * several queued calls are pipelined (written before their responses are read), so the worker
     * runs them back to back. Calls complete in the order they were submitted, and a thread's later
     * synchronous call runs after its earlier async ones. A call's failure completes its future
     * exceptionally with the same exception {@code call} would throw. Callbacks cannot be passed.
     * The call timeout is the one in force on the submitting thread ({@link #withCallTimeout}
     * included), counted from when the worker can start the call: once the calls pipelined before
     * it have answered.
     */
    java.util.concurrent.CompletableFuture<PyValue> callAsync(String dottedName, Object... args);

    /**
     * A new batch: many calls in one round trip, later ones able to use earlier results without a
     * round trip (see {@link Batch}).
     */
    Batch batch();

    /**
     * Prepares a call of a function, class or any callable by dotted name: the worker resolves the
     * name and checks the module policy once, and each call of the {@link PreparedCall} then sends
     * only its arguments; {@link PreparedCall#executeBatch} runs many argument sets in one round trip.
     *
     * @param dottedName the callable's global dotted name
     * @return the prepared call; close it (try-with-resources) to release it
     * @throws ModuleNotAllowedException (42501) if the name is outside the session's module policy
     * @throws PythonException (38000) if the name does not resolve (Python's AttributeError or ImportError)
     * @throws InvalidValueException (22023) if it names something that cannot be called
     * @throws BridgeException code {@code unsupported} (0A000) if the worker does not declare {@code prepared}
     */
    PreparedCall prepare(String dottedName);

    /** Reads a module attribute or a dotted path from one ({@code "math.pi"}, {@code "sys.version_info.major"}). */
    PyValue getAttr(String dottedName);

    /**
     * Interrupts the call running on this connection, from any thread: Python gets a
     * KeyboardInterrupt and the caller a {@link CallCancelledException}; the session and its refs
     * survive. If the call does not stop within {@code cancelGrace}, the worker is killed and the
     * connection is broken. Does nothing when no call is running.
     */
    void cancel();

    /**
     * Runs {@code calls} with a call timeout for this thread's calls on this connection (and its
     * refs, and the async calls it submits), overriding {@link BridgeConfig#callTimeout()}:
     * {@code py.withCallTimeout(Duration.ofSeconds(2), c -> c.call("slow.job"))}.
     */
    <T> T withCallTimeout(Duration timeout, Function<? super BridgeConnection, ? extends T> calls);

    /** The number of refs this session holds in the worker, asked of the worker. */
    int liveRefs();

    /**
     * The number of refs the worker holds over all its sessions (a count only). A pooled worker
     * serves one session at a time, so between borrowers this is zero unless something leaked.
     */
    int workerLiveRefs();

    /** Checks that the worker answers. */
    void ping();

    /** This session's id: unguessable, and new after every reset. */
    String sessionId();

    /**
     * Releases every ref of the session and starts a new session with a new id, on the same worker
     * (a pool does this when a connection is returned). Handles of the old session then fail fast
     * with {@link RefNotFoundException} reason SESSION_RELEASED. Returns how many refs it released
     * (the refs the session's user left open).
     */
    int resetSession();

    /** Whether the connection is unusable: closed, broken, or its worker has died. */
    boolean isClosed();

    /** Kills the worker at once, without waiting for the running call (JDBC's {@code abort}). Idempotent. */
    void abort();

    /** Releases the session and stops the worker. Idempotent; never throws. */
    @Override
    void close();
}
