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
 * <p>Every call form ({@code call}, {@code callRef}, {@code callArray}, {@code callAsync}, the
 * same on {@link RefHandle} and {@link Batch}) takes the same two shapes: {@code (name, Object...)}
 * for positional arguments, and {@code (name, List, Map)} for positional and keyword arguments. A
 * {@code List} and a {@code Map<String, ?>} right after the name are always that second shape; to
 * pass a list and a dict positionally, put them in the list: {@code call("f", List.of(list, map), Map.of())}.
 *
 * <pre>{@code
 * try (BridgeConnection py = SnakeBridge.connect()) {
 *     double root = py.call("math.sqrt", 2.0).asDouble();
 *     try (RefHandle rx = py.callRef("re.compile", "a+b")) {
 *         boolean matched = !rx.call("fullmatch", "aab").isNone();
 *     }
 * }
 * }</pre>
 *
 * <p>Every request can also fail for the connection as a whole: {@link BridgeClosedException} once
 * it is closed or broken (SQLState 08003), {@link WorkerCrashedException} if the worker dies during
 * it (08006), {@link ProtocolException} if the worker breaks the protocol (08P01), and
 * {@link CallInterruptedException} if it is cancelled or times out (57014, or 08006 if the worker had
 * to be killed). An 08 SQLState means this connection can no longer be used: open a new one.
 */
public interface BridgeConnection extends AutoCloseable {

    /**
     * Calls a function, class or any callable by dotted name ({@code "os.path.join"},
     * {@code "collections.OrderedDict.fromkeys"}). The result comes back by value; only the parts that
     * cannot travel by value (modules, functions, user objects, numpy arrays) come back as refs within it.
     *
     * @param dottedName the callable's global dotted name
     * @param args the positional arguments: values, {@link RefHandle}s of this connection, or callbacks
     * @return the result
     * @throws PythonException if Python raised (SQLState 38000)
     * @throws ModuleNotAllowedException if the name is outside the module policy (SQLState 42501)
     * @throws InvalidValueException if an argument or the result cannot cross the bridge (SQLState 22023)
     * @throws RefLimitExceededException if the result's refs would pass {@code maxRefs} under the
     *         {@code REJECT} policy (SQLState 54000)
     * @throws InvalidRefException if an argument is a closed handle (SQLState 24000)
     * @throws SessionMismatchException if an argument is a handle of another connection (SQLState 34000)
     * @throws BridgeClosedException if the connection is closed or broken (SQLState 08003)
     */
    PyValue call(String dottedName, Object... args);

    /**
     * Calls with keyword arguments; otherwise as {@link #call(String, Object...)}.
     *
     * @param dottedName the callable's global dotted name
     * @param args the positional arguments
     * @param kwargs the keyword arguments by name
     * @return the result
     * @throws PythonException if Python raised (SQLState 38000)
     * @throws ModuleNotAllowedException if the name is outside the module policy (SQLState 42501)
     * @throws InvalidValueException if an argument or the result cannot cross the bridge (SQLState 22023)
     * @throws RefLimitExceededException if the result's refs would pass {@code maxRefs} under the
     *         {@code REJECT} policy (SQLState 54000)
     * @throws BridgeClosedException if the connection is closed or broken (SQLState 08003)
     */
    PyValue call(String dottedName, List<?> args, Map<String, ?> kwargs);

    /**
     * Calls and keeps the result in Python, whatever its type (a str or an int too).
     *
     * @param dottedName the callable's global dotted name
     * @param args the positional arguments
     * @return the handle of the result; close it when done
     * @throws PythonException if Python raised (SQLState 38000)
     * @throws ModuleNotAllowedException if the name is outside the module policy (SQLState 42501)
     * @throws InvalidValueException if an argument cannot cross the bridge (SQLState 22023)
     * @throws RefLimitExceededException if the session holds {@code maxRefs} refs under the
     *         {@code REJECT} policy (SQLState 54000)
     * @throws BridgeClosedException if the connection is closed or broken (SQLState 08003)
     */
    RefHandle callRef(String dottedName, Object... args);

    /**
     * Calls with keyword arguments and keeps the result in Python:
     * {@code graph.callRef("edges", List.of(), Map.of("data", true))}.
     *
     * @param dottedName the callable's dotted name
     * @param args the positional arguments
     * @param kwargs the keyword arguments
     * @return a handle to the result; close it
     */
    RefHandle callRef(String dottedName, List<?> args, Map<String, ?> kwargs);

    /**
     * Calls and brings the result back as an array in one round trip: a numpy array (strided or
     * big-endian ones too), anything {@code numpy.asarray} accepts, or, without numpy, any object
     * with the buffer protocol. A dtype the protocol lacks (complex, object, strings) is an
     * {@link InvalidValueException} that names the supported ones.
     *
     * @param dottedName the callable's global dotted name
     * @param args the positional arguments
     * @return the result's data, dtype and shape
     * @throws PythonException if Python raised (SQLState 38000)
     * @throws InvalidValueException if the result is not an array of a supported dtype, or an argument
     *         cannot cross the bridge (SQLState 22023)
     * @throws BridgeException code {@code unsupported} if the worker does not declare the {@code arrays}
     *         capability, refused without a round trip (SQLState 0A000)
     * @throws BridgeClosedException if the connection is closed or broken (SQLState 08003)
     */
    NDArray callArray(String dottedName, Object... args);

    /**
     * Calls with keyword arguments and brings the result back as an array:
     * {@code py.callArray("numpy.zeros", List.of(3), Map.of("dtype", "int32"))}.
     *
     * @param dottedName the callable's dotted name
     * @param args the positional arguments
     * @param kwargs the keyword arguments
     * @return the result's data, dtype and shape
     * @throws InvalidValueException (22023) for a dtype the protocol lacks
     */
    NDArray callArray(String dottedName, List<?> args, Map<String, ?> kwargs);

    /**
     * Calls without waiting: the call is queued and written as soon as the connection is free, and
     * several queued calls are pipelined (written before their responses are read), so the worker
     * runs them back to back. Calls complete in the order they were submitted, and a thread's later
     * synchronous call runs after its earlier async ones. A call's failure completes its future
     * exceptionally with the same exception {@code call} would throw. Callbacks cannot be passed.
     * The call timeout is the one in force on the submitting thread ({@link #withCallTimeout}
     * included), counted from when the worker can start the call: once the calls pipelined before
     * it have answered.
     *
     * @param dottedName the callable's global dotted name
     * @param args the positional arguments; no callbacks
     * @return the result's future
     * @throws InvalidValueException if an argument is a callback, or cannot cross the bridge (SQLState 22023)
     * @throws BridgeClosedException if the connection is closed or broken (SQLState 08003)
     */
    java.util.concurrent.CompletableFuture<PyValue> callAsync(String dottedName, Object... args);

    /**
     * Calls with keyword arguments without waiting, as {@link #callAsync(String, Object...)} does.
     *
     * @param dottedName the callable's dotted name
     * @param args the positional arguments
     * @param kwargs the keyword arguments
     * @return the result, completed in submission order
     */
    java.util.concurrent.CompletableFuture<PyValue> callAsync(String dottedName, List<?> args, Map<String, ?> kwargs);

    /**
     * A new batch: many calls in one round trip, later ones able to use earlier results without a
     * round trip (see {@link Batch}). Nothing is sent until {@link Batch#execute()}.
     *
     * @return an empty batch of this connection's current session
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

    /**
     * Exports a Java function for Python to keep: passed as an argument, it stays callable during any
     * later call on this connection until it is closed or the session ends (see {@link ExportedCallback}).
     * A function passed directly is callable only while the call it was passed to runs.
     *
     * @param function a {@link PyCallback}, {@code Function}, {@code BiFunction}, {@code Supplier},
     *     {@code Consumer} or {@code Runnable}
     * @return the exported callback; close it when Python no longer needs it
     * @throws IllegalArgumentException if {@code function} is none of those
     * @throws BridgeException code {@code unsupported} (0A000) if the worker has no callbacks
     */
    ExportedCallback exportCallback(Object function);

    /**
     * Reads a module attribute or a dotted path from one ({@code "math.pi"}, {@code "sys.version_info.major"}).
     *
     * @param dottedName the global dotted name
     * @return its value, as a call's result would be
     * @throws PythonException if Python raised, e.g. an {@code AttributeError} (SQLState 38000)
     * @throws ModuleNotAllowedException if the name is outside the module policy (SQLState 42501)
     * @throws BridgeClosedException if the connection is closed or broken (SQLState 08003)
     */
    PyValue getAttr(String dottedName);

    /**
     * Reads a module attribute or a dotted path from one and keeps it in Python, whatever its type
     * ({@code py.getAttrRef("scipy.stats.norm")}).
     *
     * @param dottedName the global dotted name
     * @return a handle to the value; close it
     */
    RefHandle getAttrRef(String dottedName);

    /**
     * Calls a function and reads what it returns as a cursor that owns everything it made: the
     * result, and the iterator of it when the result is not itself an iterator (a list, say).
     * Closing the cursor releases both, so nothing is left in the session:
     * {@code try (PyCursor rows = py.iterate("mymodule.read_rows", 1_000, path)) { ... }}.
     *
     * @param dottedName the callable's dotted name
     * @param fetchSize items per round trip, at least 1
     * @param args the positional arguments
     * @return a cursor over the result's items; close it
     * @throws IllegalArgumentException if {@code fetchSize} is below 1
     */
    PyCursor iterate(String dottedName, int fetchSize, Object... args);

    /**
     * {@link #iterate(String, int, Object...)} with keyword arguments.
     *
     * @param dottedName the callable's dotted name
     * @param fetchSize items per round trip, at least 1
     * @param args the positional arguments
     * @param kwargs the keyword arguments
     * @return a cursor over the result's items; close it
     * @throws IllegalArgumentException if {@code fetchSize} is below 1
     */
    PyCursor iterate(String dottedName, int fetchSize, List<?> args, Map<String, ?> kwargs);

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
     * {@code py.withCallTimeout(Duration.ofSeconds(2), c -> c.call("slow.job"))}. Nested uses apply
     * the innermost timeout and restore the outer one after.
     *
     * @param <T> what {@code calls} returns
     * @param timeout the timeout of each call; zero for none
     * @param calls the calls to make, given this connection
     * @return what {@code calls} returned
     * @throws IllegalArgumentException if {@code timeout} is negative
     * @throws CallTimeoutException from a call that ran longer than {@code timeout} (SQLState 57014,
     *         or 08006 if the worker had to be killed)
     */
    <T> T withCallTimeout(Duration timeout, Function<? super BridgeConnection, ? extends T> calls);

    /**
     * The number of refs this session holds in the worker, asked of the worker.
     *
     * @return the live refs of this session
     * @throws BridgeClosedException if the connection is closed or broken (SQLState 08003)
     */
    int liveRefs();

    /**
     * The number of refs the worker holds over all its sessions (a count only). A pooled worker
     * serves one session at a time, so between borrowers this is zero unless something leaked.
     *
     * @return the live refs of every session of the worker
     * @throws BridgeClosedException if the connection is closed or broken (SQLState 08003)
     */
    int workerLiveRefs();

    /**
     * Checks that the worker answers, in one round trip.
     *
     * @throws BridgeClosedException if the connection is closed or broken (SQLState 08003)
     * @throws WorkerCrashedException if the worker has died (SQLState 08006)
     */
    void ping();

    /**
     * This session's id: unguessable, and new after every reset.
     *
     * @return the id the refs of this session carry
     */
    String sessionId();

    /**
     * Releases every ref of the session and starts a new session with a new id, on the same worker
     * (a pool does this when a connection is returned). Handles of the old session then fail fast
     * with {@link RefNotFoundException} reason SESSION_RELEASED. Returns how many refs it released
     * (the refs the session's user left open).
     *
     * @return the number of refs released
     * @throws BridgeClosedException if the connection is closed or broken (SQLState 08003)
     */
    int resetSession();

    /**
     * Whether the connection is unusable: closed, broken, or its worker has died. No round trip.
     *
     * @return true if no further request can succeed
     */
    boolean isClosed();

    /** Kills the worker at once, without waiting for the running call (JDBC's {@code abort}). Idempotent. */
    void abort();

    /** Releases the session and stops the worker. Idempotent; never throws. */
    @Override
    void close();
}
