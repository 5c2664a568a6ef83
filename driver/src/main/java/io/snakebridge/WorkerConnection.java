package io.snakebridge;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.internal.Request;
import io.snakebridge.internal.Request.Want;
import io.snakebridge.internal.RequestExecutor;
import io.snakebridge.internal.WorkerStarter;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link BridgeConnection} to one worker: the API face of the engine in
 * {@code io.snakebridge.internal}. A call flows in three steps: its arguments are encoded
 * ({@link ConnectionValues}), the request is sent and its response awaited
 * ({@link RequestExecutor#execute}), and the result is decoded into a {@link PyValue}.
 */
final class WorkerConnection implements BridgeConnection {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerConnection.class);

    private final ConnectionValues values;
    private RequestExecutor executor; // set once, by open()

    private WorkerConnection(BridgeConfig config) {
        this.values = new ConnectionValues(this, config);
    }

    static WorkerConnection open(BridgeConfig config) {
        WorkerConnection connection = new WorkerConnection(config);
        Request session = Request.openSession(config.maxRefs(), config.refLimitPolicy().wireName(), config.refTtl(),
                config.allowModules(), config.denyModules());
        connection.executor = WorkerStarter.start(config, session, connection.values, Defaults.MAX_INT_DIGITS);
        RequestListener listener = config.requestListener();
        if (listener != null) {
            connection.executor.observeWith((op, nanos, failure) -> listener.requestEnded(connection, op, nanos, failure));
            connection.executor.onWorkerExit(() -> listener.workerEnded(connection, connection.executor.exitDescription()));
        }
        return connection;
    }

    RequestExecutor executor() {
        return executor;
    }

    ConnectionValues values() {
        return values;
    }

    // -- calls ----------------------------------------------------------------------------------------

    @Override
    public PyValue call(String dottedName, Object... args) {
        return call(dottedName, Arrays.asList(args), Map.of());
    }

    @Override
    public PyValue call(String dottedName, List<?> args, Map<String, ?> kwargs) {
        return invoke(ValueCodec.call(dottedName, args, kwargs, Want.VALUE, values));
    }

    @Override
    public RefHandle callRef(String dottedName, Object... args) {
        return callRef(dottedName, Arrays.asList(args), Map.of());
    }

    @Override
    public RefHandle callRef(String dottedName, List<?> args, Map<String, ?> kwargs) {
        return invoke(ValueCodec.call(dottedName, args, kwargs, Want.REF, values)).asRef();
    }

    @Override
    public NDArray callArray(String dottedName, Object... args) {
        return callArray(dottedName, Arrays.asList(args), Map.of());
    }

    @Override
    public NDArray callArray(String dottedName, List<?> args, Map<String, ?> kwargs) {
        requireCapability("arrays", "callArray");
        return invoke(ValueCodec.call(dottedName, args, kwargs, Want.ARRAY, values)).as(NDArray.class);
    }

    @Override
    public PyValue getAttr(String dottedName) {
        return invoke(Request.getAttr(dottedName));
    }

    @Override
    public ExportedCallback exportCallback(Object function) {
        Integer arity = function == null ? null : ValueCodec.callbackArity(function);
        if (arity == null) {
            throw new IllegalArgumentException("exportCallback takes a PyCallback, Function, BiFunction, Supplier, Consumer or "
                    + "Runnable, got " + function);
        }
        requireCapability("callbacks", "an exported callback");
        return new ExportedCallback(executor.callbacks(), executor.callbacks().export(function), arity);
    }

    @Override
    public RefHandle getAttrRef(String dottedName) {
        return invoke(Request.getAttr(dottedName).keepResult()).asRef();
    }

    @Override
    public PyCursor iterate(String dottedName, int fetchSize, Object... args) {
        return iterate(dottedName, fetchSize, Arrays.asList(args), Map.of());
    }

    @Override
    public PyCursor iterate(String dottedName, int fetchSize, List<?> args, Map<String, ?> kwargs) {
        PyCursor.checkFetchSize(fetchSize);
        Ref result = (Ref) callRef(dottedName, args, kwargs);
        try {
            return result.iterateOwned(fetchSize);
        } catch (RuntimeException e) {
            result.close();
            throw e;
        }
    }

    @Override
    public CompletableFuture<PyValue> callAsync(String dottedName, Object... args) {
        return callAsync(dottedName, Arrays.asList(args), Map.of());
    }

    @Override
    public CompletableFuture<PyValue> callAsync(String dottedName, List<?> args, Map<String, ?> kwargs) {
        return executor.submit(ValueCodec.call(dottedName, args, kwargs, Want.VALUE, values), values::result);
    }

    @Override
    public PreparedCall prepare(String dottedName) {
        return prepare(null, dottedName);
    }

    /** Prepares {@code function}, a global name or, with {@code target}, a method path of that ref (PREP-1). */
    PreparedCall prepare(Ref target, String function) {
        requireCapability("prepared", "a prepared call");
        Object wireTarget = target == null ? null : values.ref(target);
        RefHandle handle = invoke(Request.prepare(wireTarget, function)).asRef();
        return new Prepared(this, (Ref) handle, function);
    }

    @Override
    public Batch batch() {
        return new Batch(this);
    }

    /** Sends one request and decodes its result. */
    PyValue invoke(Request request) {
        return executor.execute(request, values::result);
    }

    /** Runs a batch in one request (PROTOCOL.md BATCH-*) and completes its promises. */
    void executeBatch(Batch batch) {
        if (!batch.sessionId().equals(sessionId())) {
            throw new BridgeClosedException("this batch was made in session " + batch.sessionId() + ", which has ended "
                    + "(the connection was reset or returned to its pool); a batch runs only in its own session");
        }
        requireCapability("batch", "a batch");
        executor.execute(Request.batch(batch.encode()), batch::complete);
    }

    boolean hasCapability(String capability) {
        return executor.hello().has(capability);
    }

    /** Refuses, without a round trip, what the worker did not declare it can do (PROTOCOL.md HS-4). */
    void requireCapability(String capability, String what) {
        executor.hello().require(capability, what);
    }

    // -- session, timeouts, lifecycle -----------------------------------------------------------------

    @Override
    public int resetSession() {
        return executor.resetSession();
    }

    @Override
    public void cancel() {
        executor.cancel();
    }

    @Override
    public <T> T withCallTimeout(Duration timeout, Function<? super BridgeConnection, ? extends T> calls) {
        return executor.withCallTimeout(timeout, () -> calls.apply(this));
    }

    @Override
    public int liveRefs() {
        return executor.request(Request.sessionInfo()).path("live_refs").asInt();
    }

    @Override
    public int workerLiveRefs() {
        return executor.request(Request.sessionInfo()).path("worker_live_refs").asInt();
    }

    @Override
    public void ping() {
        executor.request(Request.ping());
    }

    @Override
    public String sessionId() {
        return executor.sessionId();
    }

    @Override
    public boolean isClosed() {
        return !executor.isUsable();
    }

    @Override
    public void abort() {
        executor.abort();
    }

    @Override
    public void close() {
        executor.close(Defaults.SHUTDOWN_GRACE);
    }

    @Override
    public String toString() {
        return "BridgeConnection[" + executor.workerName() + ", session " + sessionId() + (isClosed() ? ", closed" : "") + "]";
    }

    // -- refs -----------------------------------------------------------------------------------------

    /** Throws unless a handle of {@code ref}'s session may be used now; no round trip. */
    void checkSessionOf(Ref ref) {
        if (executor.isClosedByUser()) {
            throw new InvalidRefException(InvalidRefException.Reason.CLOSED_HANDLE,
                    "ref " + ref.id() + " is closed: its connection was closed");
        }
        BridgeException broken = executor.broken();
        if (broken != null) {
            throw new RefNotFoundException(ref.id(), ref.sessionId(), RefNotFoundException.Reason.WORKER_RESTARTED,
                    "ref " + ref.id() + " is gone: its worker is gone (" + broken.getMessage() + ")");
        }
        if (!ref.sessionId().equals(sessionId())) {
            throw new RefNotFoundException(ref.id(), ref.sessionId(), RefNotFoundException.Reason.SESSION_RELEASED,
                    "ref " + ref.id() + " is gone: its session " + ref.sessionId() + " was released (connection reset)");
        }
    }

    boolean holdsSession(String refSessionId) {
        return executor.holdsSession(refSessionId);
    }

    /** Called by the cleaner thread: never does I/O, only enqueues. */
    void abandon(String refSessionId, String refId) {
        executor.abandon(refSessionId, refId);
    }

    void release(Ref ref) {
        try {
            executor.request(Request.releaseRefs(List.of(ref.id())));
        } catch (BridgeException e) {
            // The connection is unusable; its next use says so. Closing a handle must not throw for that.
            LOG.debug("release of ref {} failed: {}", ref.id(), e.toString());
        }
    }

    /** The exception for an error object that arrived inside a result (a stream's late error). */
    BridgeException errorFrom(Object decodedError) {
        return executor.errorFrom(decodedError);
    }

    // -- test hooks -----------------------------------------------------------------------------------

    /** The worker's handshake result (PROTOCOL.md HS-3). */
    JsonNode hello() {
        return executor.hello().raw();
    }

    /** Requests sent so far: lets tests prove that a failure was detected without a round trip. */
    long requestsSent() {
        return executor.requestsSent();
    }

    /** Requests sent as lean frames so far (PROTOCOL.md LEAN-1). */
    long leanRequestsSent() {
        return executor.leanRequestsSent();
    }

    /** The most async requests that were in flight at once: lets tests prove they were pipelined. */
    int maxAsyncInFlight() {
        return executor.maxAsyncInFlight();
    }

    /** The last lines the worker wrote to stderr (what user code printed lands there too). */
    List<String> recentWorkerStderr() {
        return executor.recentWorkerOutput();
    }
}
