package io.snakebridge;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
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

    /** One call as built: its op and fields, with arguments still as Java values. */
    static final class Call {
        final String op;
        final Object target; // a RefHandle, a Promise, or null for a global name
        final String nameField;
        final String name;
        final List<?> args;
        final Map<String, ?> kwargs;
        final String want;

        Call(String op, Object target, String nameField, String name, List<?> args, Map<String, ?> kwargs, String want) {
            this.op = op;
            this.target = target;
            this.nameField = nameField;
            this.name = name;
            this.args = args;
            this.kwargs = kwargs;
            this.want = want;
        }
    }

    Batch(WorkerConnection connection) {
        this.connection = connection;
        this.sessionId = connection.sessionId();
    }

    /** Calls a function by dotted name; the result comes back by value. */
    public Promise call(String dottedName, Object... args) {
        return call(dottedName, Arrays.asList(args), Map.of());
    }

    public Promise call(String dottedName, List<?> args, Map<String, ?> kwargs) {
        return add(new Call("call", null, "function", dottedName, args, kwargs, "value"));
    }

    /** Calls a function and keeps its result in Python as a ref. */
    public Promise callRef(String dottedName, Object... args) {
        return add(new Call("call", null, "function", dottedName, Arrays.asList(args), Map.of(), "ref"));
    }

    /** Calls a method of {@code target}: a {@link RefHandle} of this connection or a {@link Promise} of this batch. */
    public Promise callMethod(Object target, String method, Object... args) {
        return add(new Call("call_method", checkTarget(target), "method", method, Arrays.asList(args), Map.of(), "value"));
    }

    /** Reads an attribute (a dotted path) of {@code target}, a RefHandle or a Promise. */
    public Promise getAttr(Object target, String name) {
        return add(new Call("get_attr", checkTarget(target), "name", name, null, null, "value"));
    }

    /** Reads a global dotted name ({@code "math.pi"}). */
    public Promise getAttr(String dottedName) {
        return add(new Call("get_attr", null, "name", dottedName, null, null, "value"));
    }

    /** The calls added so far, as promises in order. */
    public List<Promise> promises() {
        return Collections.unmodifiableList(promises);
    }

    /**
     * Sends every call in one request and completes every promise. Throws only for what ends the
     * whole batch (a broken connection, a cancel or timeout); a call's own error is in its promise.
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

    private Object checkTarget(Object target) {
        if (target instanceof Promise || target instanceof RefHandle) {
            return target;
        }
        throw new IllegalArgumentException("a target is a RefHandle or a Promise of this batch, got " + target);
    }

    /** The wire form of call {@code index}, encoded with {@code handles}. */
    Map<String, Object> wire(int index, ValueCodec.Handles handles) {
        Call call = calls.get(index);
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("op", call.op);
        if (call.target != null) {
            fields.put("object", ValueCodec.encode(call.target, handles));
        }
        fields.put(call.nameField, call.name);
        if (call.args != null) {
            fields.put("args", ValueCodec.encode(call.args, handles));
            if (!call.kwargs.isEmpty()) {
                fields.put("kwargs", ValueCodec.encode(call.kwargs, handles));
            }
        }
        String want = promises.get(index).discardsResult() ? "none" : call.want;
        if (!"value".equals(want)) {
            fields.put("want", want);
        }
        return fields;
    }
}
