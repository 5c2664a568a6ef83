package io.snakebridge;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.internal.Message;
import io.snakebridge.internal.Request;
import io.snakebridge.internal.Request.Want;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Many calls in one round trip (PROTOCOL.md BATCH-*). Calls run in order in the worker; a
 * {@link Promise} of an earlier call can be the argument or target of a later one, so a chain of
 * dependent calls costs one round trip too:
 *
 * <pre>{@code
 * Batch batch = py.batch();
 * Promise rx = batch.call("re.compile", "a+b").discardResult();
 * Promise match = batch.callMethod(rx, "fullmatch", "aab").discardResult();
 * Promise text = batch.callMethod(match, "group");
 * batch.execute();
 * text.get().asString();   // "aab"
 * }</pre>
 *
 * Each call gets its own result or error; a call whose promise argument failed fails with
 * {@link DependencyFailedException} (its cause is that call's error), and the others still run.
 * A batch is built and executed by one thread, once. Arguments are encoded at {@link #execute()}.
 */
public final class Batch {
    private final WorkerConnection connection;
    private final String sessionId;
    private final List<Promise> promises = new ArrayList<>();
    private final List<Call> calls = new ArrayList<>();
    private boolean executed;

    /** One call as built: its request, made when the batch is encoded (arguments are still Java values until then). */
    private interface Call {
        Request encode(ValueCodec.Handles handles);
    }

    Batch(WorkerConnection connection) {
        this.connection = connection;
        this.sessionId = connection.sessionId();
    }

    /**
     * Adds a call of a function by dotted name; the result comes back by value.
     *
     * @param dottedName a function, class or any callable, e.g. {@code "re.compile"}
     * @param args the positional arguments: values, {@link RefHandle}s of this connection, or
     *        {@link Promise}s of earlier calls of this batch
     * @return the call's promise
     * @throws IllegalStateException if the batch has been executed
     */
    public Promise call(String dottedName, Object... args) {
        return call(dottedName, Arrays.asList(args), Map.of());
    }

    /**
     * Adds a call with keyword arguments; the result comes back by value.
     *
     * @param dottedName a function, class or any callable, e.g. {@code "re.compile"}
     * @param args the positional arguments, as for {@link #call(String, Object...)}
     * @param kwargs the keyword arguments by name
     * @return the call's promise
     * @throws IllegalStateException if the batch has been executed
     */
    public Promise call(String dottedName, List<?> args, Map<String, ?> kwargs) {
        return add(h -> ValueCodec.call(dottedName, args, kwargs, Want.VALUE, h));
    }

    /**
     * Adds a call of a function whose result stays in Python: the promise's value is a ref.
     *
     * @param dottedName a function, class or any callable
     * @param args the positional arguments, as for {@link #call(String, Object...)}
     * @return the call's promise
     * @throws IllegalStateException if the batch has been executed
     */
    public Promise callRef(String dottedName, Object... args) {
        return callRef(dottedName, Arrays.asList(args), Map.of());
    }

    /**
     * Calls a function with keyword arguments and keeps its result in Python as a ref.
     *
     * @param dottedName the callable's dotted name
     * @param args the positional arguments (Promises of earlier calls among them)
     * @param kwargs the keyword arguments
     * @return the promise of the call's result
     */
    public Promise callRef(String dottedName, List<?> args, Map<String, ?> kwargs) {
        return add(h -> ValueCodec.call(dottedName, args, kwargs, Want.REF, h));
    }

    /**
     * Adds a call of a method of {@code target}.
     *
     * @param target a {@link RefHandle} of this connection or a {@link Promise} of an earlier call of this batch
     * @param method the method's name, or a dotted path of attributes ending in a callable
     * @param args the positional arguments, as for {@link #call(String, Object...)}
     * @return the call's promise
     * @throws IllegalArgumentException if {@code target} is neither a RefHandle nor a Promise
     * @throws IllegalStateException if the batch has been executed
     */
    public Promise callMethod(Object target, String method, Object... args) {
        return callMethod(target, method, Arrays.asList(args), Map.of());
    }

    /**
     * Calls a method of {@code target} (a RefHandle or a Promise of this batch) with keyword arguments.
     *
     * @param target the object whose method is called
     * @param method the method's name (or a dotted path of attributes ending in a callable)
     * @param args the positional arguments
     * @param kwargs the keyword arguments
     * @return the promise of the call's result
     * @throws IllegalArgumentException if {@code target} is neither a RefHandle nor a Promise
     */
    public Promise callMethod(Object target, String method, List<?> args, Map<String, ?> kwargs) {
        checkTarget(target);
        return add(h -> ValueCodec.callMethod(target, method, args, kwargs, Want.VALUE, h));
    }

    /**
     * Adds a read of an attribute of {@code target}.
     *
     * @param target a {@link RefHandle} of this connection or a {@link Promise} of an earlier call of this batch
     * @param name the attribute, or a dotted path of attributes
     * @return the read's promise
     * @throws IllegalArgumentException if {@code target} is neither a RefHandle nor a Promise
     * @throws IllegalStateException if the batch has been executed
     */
    public Promise getAttr(Object target, String name) {
        checkTarget(target);
        return add(h -> Request.getAttr(ValueCodec.encode(target, h), name));
    }

    /**
     * Adds a read of a global dotted name.
     *
     * @param dottedName a module attribute or a dotted path from one, e.g. {@code "math.pi"}
     * @return the read's promise
     * @throws IllegalStateException if the batch has been executed
     */
    public Promise getAttr(String dottedName) {
        return add(h -> Request.getAttr(dottedName));
    }

    /**
     * The calls added so far.
     *
     * @return their promises in order; unmodifiable
     */
    public List<Promise> promises() {
        return Collections.unmodifiableList(promises);
    }

    /**
     * Sends every call in one request and completes every promise. Throws only for what ends the
     * whole batch (a broken connection, a cancel or timeout, a response past maxResponseBytes or
     * maxResponseElements: the results share one response); a call's own error is in its promise.
     *
     * @return every promise, in order, each with its result or error
     * @throws IllegalStateException if the batch has been executed already
     * @throws InvalidValueException if an argument cannot cross, a promise is passed to a call that is
     *         not later in its batch, or the response is past a cap (SQLState 22023)
     * @throws BridgeClosedException if the connection is closed or broken, or was reset since the batch
     *         was made: a batch runs only in its own session (SQLState 08003)
     * @throws BridgeException code {@code unsupported} if the worker does not declare the {@code batch}
     *         capability (SQLState 0A000)
     * @throws CallInterruptedException if the batch was cancelled or timed out (SQLState 57014, or 08006
     *         if the worker had to be killed)
     * @throws WorkerCrashedException if the worker died meanwhile (SQLState 08006)
     */
    public List<Promise> execute() {
        checkNotExecuted();
        executed = true;
        connection.executeBatch(this);
        return promises();
    }

    /** The session the batch was made in: it never runs in another (a pooled connection's next borrower's). */
    String sessionId() {
        return sessionId;
    }

    void checkNotExecuted() {
        if (executed) {
            throw new IllegalStateException("this batch has been executed; start a new one with batch()");
        }
    }

    private Promise add(Call call) {
        checkNotExecuted();
        Promise promise = new Promise(this, promises.size());
        promises.add(promise);
        calls.add(call);
        return promise;
    }

    private static void checkTarget(Object target) {
        if (target instanceof Promise || target instanceof RefHandle) {
            return;
        }
        throw new IllegalArgumentException("a target is a RefHandle or a Promise of this batch, got " + target);
    }

    /** The calls as the batch request carries them (BATCH-1), encoded with the connection's values and this batch's promises. */
    List<Object> encode() {
        PromiseHandles handles = new PromiseHandles();
        List<Object> entries = new ArrayList<>(calls.size());
        for (int i = 0; i < calls.size(); i++) {
            handles.current = i;
            Request request = calls.get(i).encode(handles);
            entries.add((promises.get(i).discardsResult() ? request.discardResult() : request).asBatchEntry());
        }
        return entries;
    }

    /** Encodes as the connection does, plus promises of earlier calls of this batch (BATCH-2). */
    private final class PromiseHandles extends ConnectionValues {
        int current; // the call being encoded

        PromiseHandles() {
            super(connection, connection.values().config());
        }

        @Override
        public Object promise(Promise promise) {
            if (promise.batch() != Batch.this || promise.index() >= current) {
                throw new InvalidValueException("call " + current + " of a batch uses " + promise
                        + "; a Promise can only be passed to a later call of the batch that made it");
            }
            return ValueCodec.tag("promise", "index", promise.index());
        }
    }

    /**
     * Completes every promise from the batch's response: each with its own result or error; a
     * dependency failure gets the failed call's error as its cause.
     */
    Void complete(Message response) {
        ConnectionValues values = connection.values();
        JsonNode results = response.result().path("values");
        JsonNode errors = response.result().path("errors");
        if (!results.isArray() || results.size() != promises.size() || !errors.isObject()) {
            throw new ProtocolException("worker answered a batch of " + promises.size() + " calls with " + response.result());
        }
        for (int i = 0; i < promises.size(); i++) {
            Promise promise = promises.get(i);
            JsonNode errorNode = errors.get(Integer.toString(i));
            if (errorNode == null) {
                promise.complete(values.value(results.get(i), response));
                continue;
            }
            BridgeException error = connection.executor().errorFrom(errorNode);
            if (error instanceof DependencyFailedException) {
                int failed = ((DependencyFailedException) error).failedIndex();
                if (failed >= 0 && failed < i) {
                    error = new DependencyFailedException(failed, error.getMessage(), promises.get(failed).error());
                }
            }
            promise.fail(error);
        }
        return null;
    }
}
