package io.snakebridge;

import io.snakebridge.internal.Request;
import io.snakebridge.internal.Request.Want;
import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A {@link RefHandle} of a {@link WorkerConnection}. */
final class Ref implements RefHandle {
    /** One cleaner thread for every handle of every connection; its actions only enqueue ids. */
    private static final Cleaner CLEANER = Cleaner.create();

    private final WorkerConnection connection;
    private final String tag;
    private final String id;
    private final String sessionId;
    private final String pythonModule;
    private final String typeName;
    private final String workerId;
    private final Backstop backstop;
    private final Cleaner.Cleanable cleanable;

    Ref(WorkerConnection connection, String tag, String id, String sessionId, String pythonModule, String typeName,
            String workerId, Throwable creationSite) {
        this.connection = connection;
        this.tag = tag;
        this.id = id;
        this.sessionId = sessionId;
        this.pythonModule = pythonModule;
        this.typeName = typeName;
        this.workerId = workerId;
        this.backstop = new Backstop(connection, id, sessionId, typeName, creationSite);
        this.cleanable = CLEANER.register(this, backstop);
    }

    WorkerConnection connection() {
        return connection;
    }

    Map<String, Object> wire() {
        Map<String, Object> wire = new LinkedHashMap<>(8);
        wire.put(ValueCodec.TYPE, tag);
        wire.put(ValueCodec.SCHEMA, ValueCodec.SCHEMA_VERSION);
        wire.put("id", id);
        wire.put("session_id", sessionId);
        if (workerId != null) {
            wire.put("worker_id", workerId);
        }
        return wire;
    }

    void checkUsable() {
        if (backstop.closed.get()) {
            throw new InvalidRefException(InvalidRefException.Reason.CLOSED_HANDLE, "ref " + id + " (" + typeName + ") is closed");
        }
        connection.checkSessionOf(this);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String sessionId() {
        return sessionId;
    }

    @Override
    public String typeName() {
        return typeName;
    }

    @Override
    public String pythonModule() {
        return pythonModule;
    }

    @Override
    public PyValue call(String method, Object... args) {
        return call(method, Arrays.asList(args), Map.of());
    }

    @Override
    public PyValue call(String method, List<?> args, Map<String, ?> kwargs) {
        return connection.invoke(ValueCodec.callMethod(this, method, args, kwargs, Want.VALUE, connection.values()));
    }

    @Override
    public PreparedCall prepare(String method) {
        return connection.prepare(this, method);
    }

    @Override
    public RefHandle callRef(String method, Object... args) {
        return callRef(method, Arrays.asList(args), Map.of());
    }

    @Override
    public RefHandle callRef(String method, List<?> args, Map<String, ?> kwargs) {
        return connection.invoke(ValueCodec.callMethod(this, method, args, kwargs, Want.REF, connection.values())).asRef();
    }

    @Override
    public PyValue getAttr(String name) {
        checkUsable();
        return connection.invoke(Request.getAttr(wire(), name));
    }

    @Override
    public RefHandle getAttrRef(String name) {
        checkUsable();
        return connection.invoke(Request.getAttr(wire(), name).keepResult()).asRef();
    }

    @Override
    public PyValue invoke(Object... args) {
        return invoke(Arrays.asList(args), Map.of());
    }

    @Override
    public PyValue invoke(List<?> args, Map<String, ?> kwargs) {
        return call("__call__", args, kwargs); // judged as this object under a module policy (POL-2)
    }

    @Override
    public void setAttr(String name, Object value) {
        checkUsable();
        connection.invoke(Request.setAttr(wire(), name, connection.values().encode(value)));
    }

    @Override
    public NDArray toArray() {
        connection.requireCapability("arrays", "toArray");
        return get(Want.ARRAY).as(NDArray.class);
    }

    @Override
    public PyValue value() {
        return get(Want.VALUE);
    }

    private PyValue get(Want want) {
        checkUsable();
        connection.requireCapability("object_protocol", "reading a ref's own value");
        return connection.invoke(Request.get(wire(), want));
    }

    @Override
    public long len() {
        return apply("len").asLong();
    }

    @Override
    public boolean contains(Object item) {
        return apply("contains", item).asBoolean();
    }

    @Override
    public PyValue getItem(Object key) {
        return apply("getitem", key);
    }

    @Override
    public void setItem(Object key, Object value) {
        apply("setitem", key, value);
    }

    @Override
    public void delItem(Object key) {
        apply("delitem", key);
    }

    @Override
    public String repr() {
        return apply("repr").asString();
    }

    @Override
    public String str() {
        return apply("str").asString();
    }

    @Override
    public <T> T withContext(Function<? super PyValue, ? extends T> body) {
        T result;
        try (PyValue entered = apply("enter")) {
            try {
                result = body.apply(entered);
            } catch (RuntimeException | Error thrown) {
                boolean suppressed;
                try {
                    suppressed = apply("exit", thrown.getClass().getName(), String.valueOf(thrown.getMessage())).asBoolean();
                } catch (BridgeException exitFailed) { // as in Python: __exit__'s own exception replaces the block's
                    exitFailed.addSuppressed(thrown);
                    throw exitFailed;
                }
                if (suppressed) {
                    return null;
                }
                throw thrown;
            }
            apply("exit");
        }
        return result;
    }

    /** A Python protocol on this object (PROTOCOL.md OP-APPLY-1). */
    private PyValue apply(String action, Object... args) {
        checkUsable();
        connection.requireCapability("object_protocol", "Python's " + action + " protocol");
        return connection.invoke(Request.apply(wire(), action, connection.values().encode(Arrays.asList(args))));
    }

    /** {@code iter(this)}: by the object protocol where the worker has it (a module policy need not allow builtins). */
    private Ref iteratorOf() {
        if (connection.hasCapability("object_protocol")) {
            return (Ref) apply("iter").asRef();
        }
        return (Ref) connection.callRef("iter", this);
    }

    @Override
    public PyCursor iterate(int fetchSize) {
        PyCursor.checkFetchSize(fetchSize);
        checkUsable();
        return cursor(fetchSize, false);
    }

    /** A cursor over this object that also owns it: closing the cursor releases this too. */
    PyCursor iterateOwned(int fetchSize) {
        checkUsable();
        return cursor(fetchSize, true);
    }

    /** A stream ref is read directly (the cursor takes it over); anything else through a fresh iter() of it. */
    private PyCursor cursor(int fetchSize, boolean ownThis) {
        if ("stream_ref".equals(tag)) {
            return new PyCursor(this, fetchSize, null);
        }
        return new PyCursor(iteratorOf(), fetchSize, ownThis ? this : null);
    }

    @Override
    public boolean isClosed() {
        return backstop.closed.get() || !connection.holdsSession(sessionId);
    }

    @Override
    public void close() {
        if (!backstop.closed.compareAndSet(false, true)) {
            return;
        }
        cleanable.clean(); // deregisters; the backstop sees closed and does nothing
        if (connection.holdsSession(sessionId)) {
            connection.release(this);
        }
    }

    @Override
    public String toString() {
        return "RefHandle[" + pythonModule + "." + typeName + " " + id + (isClosed() ? ", closed" : "") + "]";
    }

    /**
     * Runs when the handle became unreachable without close(). Holds no reference to the handle,
     * and only enqueues its id: the release travels with the connection's next request.
     */
    private static final class Backstop implements Runnable {
        private static final Logger LEAKS = LoggerFactory.getLogger("io.snakebridge.leaks");

        final AtomicBoolean closed = new AtomicBoolean();
        private final WorkerConnection connection;
        private final String id;
        private final String sessionId;
        private final String typeName;
        private final Throwable creationSite;

        Backstop(WorkerConnection connection, String id, String sessionId, String typeName, Throwable creationSite) {
            this.connection = connection;
            this.id = id;
            this.sessionId = sessionId;
            this.typeName = typeName;
            this.creationSite = creationSite;
        }

        @Override
        public void run() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            if (creationSite != null) {
                LEAKS.warn("ref {} ({}) was garbage-collected without close(); releasing it", id, typeName, creationSite);
            }
            connection.abandon(sessionId, id);
        }
    }
}
