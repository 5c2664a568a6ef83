package io.snakebridge;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import io.snakebridge.shim.Signal;
import io.snakebridge.shim.WorkerProcess;
import io.snakebridge.wire.FrameChannel;
import io.snakebridge.wire.WireJson;
import java.io.File;
import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link BridgeConnection} to one worker process. The calling thread does the I/O of its own
 * request (no hand-off to a reader thread, so a call costs one pipe round trip); a lock serializes
 * requests from several threads.
 */
final class WorkerConnection implements BridgeConnection {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerConnection.class);
    static final int PROTOCOL_VERSION = 1;
    static final int MIN_SUPPORTED_VERSION = 1;

    /** One cleaner thread for every handle of every connection; its actions only enqueue ids. */
    static final Cleaner CLEANER = Cleaner.create();
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "snakebridge-watchdog");
        t.setDaemon(true);
        return t;
    });
    private static final SecureRandom RANDOM = new SecureRandom();
    /** One Jackson configuration per set of caps: building a mapper costs far more than a lookup. */
    private static final Map<List<Integer>, ObjectMapper> MAPPERS = new ConcurrentHashMap<>();
    private final ObjectMapper mapper;

    private final BridgeConfig config;
    private final WorkerProcess process;
    private final FrameChannel channel;
    private final ReentrantLock lock = new ReentrantLock();
    /** {session id, ref id} of handles collected without close(); released with the next request. */
    private final ConcurrentLinkedQueue<String[]> abandoned = new ConcurrentLinkedQueue<>();
    private long nextRequestId;
    private String workerId;
    private JsonNode hello;
    /** Binary payloads this large travel as attachments; MAX_VALUE for a worker without the capability. */
    private int attachmentMinBytes = Integer.MAX_VALUE;
    private int maxAttachments;
    private volatile String sessionId;
    private volatile boolean closed;
    /** False until the handshake and the first session are done: startTimeout bounds those, not callTimeout. */
    private volatile boolean started;
    private volatile BridgeException broken;

    /** Why the request in flight is being interrupted. */
    private enum Interruption { CANCEL, TIMEOUT }

    private final ThreadLocal<Duration> callTimeoutOverride = new ThreadLocal<>();

    /** Java callbacks Python may call now, by id; each lives as long as the request that carried it. */
    private final Map<String, Object> liveCallbacks = new ConcurrentHashMap<>();
    /** Ids of callbacks encoded on this thread and not yet claimed by a request. */
    private final ThreadLocal<List<String>> unclaimedCallbacks = ThreadLocal.withInitial(ArrayList::new);
    private final AtomicLong callbackIds = new AtomicLong();
    /** Exceptions Java callbacks threw during the current outermost request, by the id Python was told. */
    private final Map<Long, Throwable> callbackErrors = new ConcurrentHashMap<>();
    private final Object cancelLock = new Object();
    private long inFlight;                  // guarded by cancelLock: id of the request awaiting its response, 0 if none
    private Interruption interruption;      // guarded by cancelLock
    private boolean killedToInterrupt;      // guarded by cancelLock
    private ScheduledFuture<?> escalation;  // guarded by cancelLock: the SIGKILL after cancelGrace

    /**
     * Request bytes that async calls may have in flight at once. Below any pipe's capacity, so a
     * write never waits on a worker that is itself waiting to write a response we have not read.
     */
    static final int ASYNC_WINDOW_BYTES = 32 * 1024;
    private static final java.util.concurrent.ExecutorService ASYNC = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "snakebridge-async");
        t.setDaemon(true);
        return t;
    });
    /** Async calls submitted and not yet written, in order. */
    private final ConcurrentLinkedQueue<AsyncCall> asyncQueue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean dispatchScheduled = new AtomicBoolean();
    private int maxAsyncInFlight; // guarded by lock: the most async requests written before reading one

    /**
     * An async call as submitted: its op and encoded fields, for the session it was made in, with
     * the call timeout in force on the submitting thread (it runs on another).
     */
    private static final class AsyncCall {
        final String op;
        final Map<String, Object> fields;
        final String sessionId;
        final Duration timeout;
        final java.util.concurrent.CompletableFuture<PyValue> future = new java.util.concurrent.CompletableFuture<>();
        long id;
        Outgoing payload;

        AsyncCall(String op, Map<String, Object> fields, String sessionId, Duration timeout) {
            this.op = op;
            this.fields = fields;
            this.sessionId = sessionId;
            this.timeout = timeout;
        }

        int bytes() {
            int n = payload.json.length;
            for (byte[] attachment : payload.attachments) {
                n += attachment.length;
            }
            return n;
        }
    }

    private WorkerConnection(BridgeConfig config, WorkerProcess process) {
        this.config = config;
        this.process = process;
        this.channel = new FrameChannel(process.protocolInput(), process.protocolOutput(), config.maxFrameBytes());
        this.mapper = MAPPERS.computeIfAbsent(List.of(config.maxFrameBytes(), config.maxNestingDepth()),
                caps -> WireJson.mapper(caps.get(0), caps.get(1), Defaults.MAX_INT_DIGITS));
    }

    static WorkerConnection open(BridgeConfig config) {
        Path sources = WorkerSources.directory();
        List<String> pythonPath = new ArrayList<>();
        pythonPath.add(sources.toString());
        config.pythonPath().forEach(p -> pythonPath.add(p.toAbsolutePath().toString()));
        String inherited = System.getenv("PYTHONPATH");
        if (inherited != null && !inherited.isEmpty()) {
            pythonPath.add(inherited);
        }
        WorkerProcess process;
        try {
            process = WorkerProcess.start(List.of(config.python(), "-m", WorkerSources.PACKAGE),
                    Map.of("PYTHONPATH", String.join(File.pathSeparator, pythonPath), "PYTHONIOENCODING", "utf-8"));
        } catch (IOException e) {
            throw new WorkerStartException("cannot start the Python interpreter '" + config.python() + "': " + e.getMessage(), e);
        }
        if (config.memoryLimitBytes() > 0) {
            process.limitAddressSpace(config.memoryLimitBytes()); // before the handshake: no user code has run yet
        }
        WorkerConnection connection = new WorkerConnection(config, process);
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> timer = WATCHDOG.schedule(() -> {
            timedOut.set(true); // before the kill: the handshake's reader sees EOF as soon as the signal lands
            process.kill();
        }, config.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
        try {
            connection.handshake();
            connection.openSession(newSessionId());
            connection.started = true;
            return connection;
        } catch (BridgeException e) {
            process.kill();
            process.drainStderr(Duration.ofMillis(500));
            String why = timedOut.get() ? "did not answer the handshake within startTimeout=" + config.startTimeout() : e.getMessage();
            throw new WorkerStartException("worker '" + config.python() + " -m " + WorkerSources.PACKAGE + "' failed to start: "
                    + why + " (" + process.exitDescription() + ")" + stderrExcerpt(process.recentStderr()), e);
        } finally {
            timer.cancel(false);
        }
    }

    private void handshake() {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("protocol_version", PROTOCOL_VERSION);
        fields.put("min_supported_version", MIN_SUPPORTED_VERSION);
        fields.put("client_capabilities", List.of("attachments"));
        Map<String, Object> limits = new LinkedHashMap<>();
        limits.put("max_frame_bytes", config.maxFrameBytes());
        limits.put("max_nesting_depth", config.maxNestingDepth());
        limits.put("max_string_length", config.maxStringLength());
        fields.put("limits", limits);
        hello = request("handshake", fields, false);
        limits.forEach((name, value) -> {
            if (hello.path("limits").path(name).asLong(-1) != ((Integer) value).longValue()) {
                throw new ProtocolException("worker did not adopt " + name + "=" + value + " (HS-5); it reports "
                        + hello.path("limits"));
            }
        });
        int version = hello.path("protocol_version").asInt(-1);
        if (version < MIN_SUPPORTED_VERSION || version > PROTOCOL_VERSION) {
            throw new ProtocolException("worker agreed to protocol version " + version + ", this driver speaks "
                    + MIN_SUPPORTED_VERSION + ".." + PROTOCOL_VERSION);
        }
        workerId = hello.path("worker_id").asText(null);
        maxAttachments = hello.path("limits").path("max_attachments").asInt(0);
        if (hasCapability("attachments")) {
            attachmentMinBytes = Defaults.ATTACHMENT_MIN_BYTES;
        }
    }

    /** Refuses, without a round trip, what the worker did not declare it can do (PROTOCOL.md HS-4). */
    void requireCapability(String capability, String what) {
        if (!hasCapability(capability)) {
            throw new BridgeException("unsupported", "0A000", what + " needs capability '" + capability + "', which worker "
                    + process.pid() + " does not declare (PROTOCOL.md HS-4)", null);
        }
    }

    boolean hasCapability(String name) {
        for (JsonNode capability : hello.path("capabilities")) {
            if (name.equals(capability.asText())) {
                return true;
            }
        }
        return false;
    }

    private void openSession(String newSessionId) {
        Map<String, Object> limits = new LinkedHashMap<>();
        limits.put("max_refs", config.maxRefs());
        limits.put("ref_limit_policy", config.refLimitPolicy().wireName());
        limits.put("ref_ttl_seconds", config.refTtl().toNanos() / 1e9);
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("limits", limits);
        if (!config.allowModules().isEmpty() || !config.denyModules().isEmpty()) {
            fields.put("policy", Map.of("allow_modules", config.allowModules(), "deny_modules", config.denyModules()));
        }
        sessionId = newSessionId;
        request("open_session", fields, true);
    }

    private static String newSessionId() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return "sb-" + HexFormat.of().formatHex(bytes);
    }

    @Override
    public int resetSession() {
        lock.lock();
        try {
            if (!asyncQueue.isEmpty()) {
                dispatchAsync(); // async calls of the ending session still run in it
            }
            String next = newSessionId();
            int released = request("reset_session", Map.of("new_session_id", next), true).asInt(); // one round trip
            sessionId = next;
            return released;
        } finally {
            lock.unlock();
        }
    }

    // -- BridgeConnection -------------------------------------------------------------------------

    @Override
    public PyValue call(String dottedName, Object... args) {
        return call(dottedName, Arrays.asList(args), Map.of());
    }

    @Override
    public PyValue call(String dottedName, List<?> args, Map<String, ?> kwargs) {
        return invoke("call", callFields("function", dottedName, null, args, kwargs, "value"));
    }

    @Override
    public RefHandle callRef(String dottedName, Object... args) {
        return invoke("call", callFields("function", dottedName, null, Arrays.asList(args), Map.of(), "ref")).asRef();
    }

    @Override
    public NDArray callArray(String dottedName, Object... args) {
        requireCapability("arrays", "callArray");
        return invoke("call", callFields("function", dottedName, null, Arrays.asList(args), Map.of(), "array")).as(NDArray.class);
    }

    @Override
    public PyValue getAttr(String dottedName) {
        return invoke("get_attr", Map.of("name", dottedName));
    }

    @Override
    public void cancel() {
        synchronized (cancelLock) {
            interrupt(inFlight, Interruption.CANCEL);
        }
    }

    @Override
    public <T> T withCallTimeout(Duration timeout, Function<? super BridgeConnection, ? extends T> calls) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative, got " + timeout);
        }
        Duration outer = callTimeoutOverride.get();
        callTimeoutOverride.set(timeout);
        try {
            return calls.apply(this);
        } finally {
            if (outer == null) {
                callTimeoutOverride.remove();
            } else {
                callTimeoutOverride.set(outer);
            }
        }
    }

    @Override
    public int liveRefs() {
        return request("session_info", Map.of(), true).path("live_refs").asInt();
    }

    @Override
    public int workerLiveRefs() {
        return request("session_info", Map.of(), true).path("worker_live_refs").asInt();
    }

    @Override
    public void ping() {
        request("ping", Map.of(), false);
    }

    @Override
    public String sessionId() {
        return sessionId;
    }

    @Override
    public boolean isClosed() {
        return closed || broken != null || !process.isAlive();
    }

    @Override
    public void abort() {
        closed = true;
        process.kill();
        failQueuedAsyncCalls();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        failQueuedAsyncCalls();
        // EOF ends the worker, and with it the session and all its refs; no release round trip needed.
        process.shutdown(Defaults.SHUTDOWN_GRACE);
    }

    @Override
    public String toString() {
        return "BridgeConnection[worker pid " + process.pid() + ", session " + sessionId + (isClosed() ? ", closed" : "") + "]";
    }

    /** The worker's handshake result (PROTOCOL.md HS-3). */
    JsonNode hello() {
        return hello;
    }

    /** Requests sent so far: lets tests prove that a failure was detected without a round trip. */
    long requestsSent() {
        return nextRequestId;
    }

    /** The last lines the worker wrote to stderr (what user code printed lands there too). */
    List<String> recentWorkerStderr() {
        process.drainStderr(Duration.ofMillis(50));
        return process.recentStderr();
    }

    // -- used by Ref ------------------------------------------------------------------------------

    Map<String, Object> callFields(String nameField, String name, Ref target, List<?> args, Map<String, ?> kwargs, String want) {
        Map<String, Object> fields = new LinkedHashMap<>();
        if (target != null) {
            fields.put("object", target.wire());
        }
        fields.put(nameField, name);
        fields.put("args", encode(args));
        if (!kwargs.isEmpty()) {
            fields.put("kwargs", encode(kwargs));
        }
        if (!"value".equals(want)) {
            fields.put("want", want);
        }
        return fields;
    }

    Object encode(Object value) {
        return ValueCodec.encode(value, handles);
    }

    private final ValueCodec.Handles handles = new ConnectionHandles();

    /** How this connection encodes refs, callbacks and binary payloads, within its caps. */
    private class ConnectionHandles implements ValueCodec.Handles {
        @Override
        public Object ref(RefHandle handle) {
            return wireRef(handle);
        }

        @Override
        public int attachmentMinBytes() {
            return attachmentMinBytes;
        }

        @Override
        public int maxNestingDepth() {
            return config.maxNestingDepth();
        }

        @Override
        public int maxStringLength() {
            return config.maxStringLength();
        }

        @Override
        public void requireArrays() {
            requireCapability("arrays", "an array argument");
        }

        @Override
        public Object callback(Object function, int arity) {
            String id = "cb" + callbackIds.incrementAndGet();
            liveCallbacks.put(id, function);
            unclaimedCallbacks.get().add(id);
            Map<String, Object> wire = ValueCodec.tag("callback", "ref_id", id);
            wire.put("arity", arity);
            return wire;
        }
    }

    private List<String> claimCallbacks() {
        List<String> ids = unclaimedCallbacks.get();
        if (ids.isEmpty()) {
            return List.of();
        }
        unclaimedCallbacks.set(new ArrayList<>());
        return ids;
    }

    PyValue invoke(String op, Map<String, Object> fields) {
        Message response = exchangeRequest(op, fields, true);
        try {
            return decodeValue(response.body.get("result"), response.attachments);
        } catch (ProtocolException e) {
            throw breakWith(e);
        }
    }

    /** Decodes one value of a message, making one handle per ref id (the worker sends one ref per object). */
    private PyValue decodeValue(JsonNode value, List<byte[]> attachments) {
        MessageValues in = new MessageValues(attachments);
        Object raw = ValueCodec.decode(value == null ? NullNode.getInstance() : value, in);
        return new PyValue(raw, in.refs == null ? List.of() : List.copyOf(in.refs.values()));
    }

    /** The refs and attachment frames of one message being decoded. */
    private final class MessageValues implements ValueCodec.Incoming {
        private final List<byte[]> attachments;
        Map<String, RefHandle> refs; // made at the first ref: most values hold none

        MessageValues(List<byte[]> attachments) {
            this.attachments = attachments;
        }

        @Override
        public RefHandle ref(JsonNode node) {
            if (refs == null) {
                refs = new LinkedHashMap<>(4);
            }
            return newRef(node, refs);
        }

        @Override
        public byte[] attachment(int index) {
            if (index < 0 || index >= attachments.size()) {
                throw new ProtocolException("worker referred to attachment " + index + " of a message that carries "
                        + attachments.size());
            }
            return attachments.get(index);
        }

        @Override
        public int maxStringLength() {
            return config.maxStringLength();
        }
    }

    /**
     * Runs a batch in one request (PROTOCOL.md BATCH-*) and completes its promises: each with its
     * own result or error; a dependency failure gets the failed call's error as its cause.
     */
    void executeBatch(Batch batch) {
        if (!batch.sessionId().equals(sessionId)) {
            throw new BridgeClosedException("this batch was made in session " + batch.sessionId() + ", which has ended "
                    + "(the connection was reset or returned to its pool); a batch runs only in its own session");
        }
        requireCapability("batch", "a batch");
        List<Promise> promises = batch.promises();
        List<Object> calls = new ArrayList<>(promises.size());
        BatchHandles batchHandles = new BatchHandles(batch);
        for (int i = 0; i < promises.size(); i++) {
            batchHandles.current = i;
            calls.add(batch.wire(i, batchHandles));
        }
        exchangeRequest("batch", Map.of("calls", calls), true, response -> {
            completeBatch(promises, response);
            return null;
        });
    }

    private void completeBatch(List<Promise> promises, Message response) {
        JsonNode values = response.body.path("result").path("values");
        JsonNode errors = response.body.path("result").path("errors");
        if (!values.isArray() || values.size() != promises.size() || !errors.isObject()) {
            throw breakWith(new ProtocolException("worker answered a batch of " + promises.size() + " calls with "
                    + response.body.path("result")));
        }
        try {
            for (int i = 0; i < promises.size(); i++) {
                Promise promise = promises.get(i);
                JsonNode errorNode = errors.get(Integer.toString(i));
                if (errorNode == null) {
                    promise.complete(decodeValue(values.get(i), response.attachments));
                    continue;
                }
                BridgeException error = Errors.fromWire(errorNode, callbackErrors::get);
                if (error instanceof DependencyFailedException) {
                    int failed = ((DependencyFailedException) error).failedIndex();
                    if (failed >= 0 && failed < i) {
                        error = new DependencyFailedException(failed, error.getMessage(), promises.get(failed).error());
                    }
                }
                promise.fail(error);
            }
        } catch (ProtocolException e) {
            throw breakWith(e);
        }
    }

    /** Encodes the calls of one batch: as the connection does, plus promises of earlier calls. */
    private final class BatchHandles extends ConnectionHandles {
        private final Batch batch;
        int current; // the call being encoded

        BatchHandles(Batch batch) {
            this.batch = batch;
        }

        @Override
        public Object promise(Promise promise) {
            if (promise.batch() != batch || promise.index() >= current) {
                throw new InvalidValueException("call " + current + " of a batch uses " + promise
                        + "; a Promise can only be passed to a later call of the batch that made it");
            }
            return ValueCodec.tag("promise", "index", promise.index());
        }
    }

    @Override
    public Batch batch() {
        return new Batch(this);
    }

    /** The exception for an error object that arrived inside a result (a stream's late error). */
    BridgeException errorFrom(Object decodedError) {
        return Errors.fromWire(mapper.valueToTree(decodedError), callbackErrors::get);
    }

    /** Throws unless a handle of {@code refSessionId} may be used now; no round trip. */
    void checkSessionOf(Ref ref) {
        if (closed) {
            throw new InvalidRefException(InvalidRefException.Reason.CLOSED_HANDLE,
                    "ref " + ref.id() + " is closed: its connection was closed");
        }
        if (broken != null) {
            throw new RefNotFoundException(ref.id(), ref.sessionId(), RefNotFoundException.Reason.WORKER_RESTARTED,
                    "ref " + ref.id() + " is gone: its worker is gone (" + broken.getMessage() + ")");
        }
        if (!ref.sessionId().equals(sessionId)) {
            throw new RefNotFoundException(ref.id(), ref.sessionId(), RefNotFoundException.Reason.SESSION_RELEASED,
                    "ref " + ref.id() + " is gone: its session " + ref.sessionId() + " was released (connection reset)");
        }
    }

    boolean holdsSession(String refSessionId) {
        return !closed && broken == null && refSessionId.equals(sessionId);
    }

    /** Called by the cleaner thread: never does I/O, only enqueues. */
    void abandon(String refSessionId, String refId) {
        if (holdsSession(refSessionId)) {
            abandoned.add(new String[] {refSessionId, refId});
        }
    }

    void release(Ref ref) {
        try {
            request("release_ref", Map.of("ids", List.of(ref.id())), true);
        } catch (BridgeException e) {
            // The connection is unusable; its next use says so. Closing a handle must not throw for that.
            LOG.debug("release of ref {} failed: {}", ref.id(), e.toString());
        }
    }

    // -- the request path -------------------------------------------------------------------------

    private JsonNode request(String op, Map<String, Object> fields, boolean sessionScoped) {
        JsonNode result = exchangeRequest(op, fields, sessionScoped).body.get("result");
        return result == null ? NullNode.getInstance() : result;
    }

    /** One message: its JSON and the attachment frames that follow it (PROTOCOL.md ATT-1). */
    private static final class Message {
        final JsonNode body;
        final List<byte[]> attachments;

        Message(JsonNode body, List<byte[]> attachments) {
            this.body = body;
            this.attachments = attachments;
        }
    }

    /** An outgoing message, serialized. */
    private static final class Outgoing {
        final byte[] json;
        final List<byte[]> attachments;

        Outgoing(byte[] json, List<byte[]> attachments) {
            this.json = json;
            this.attachments = attachments;
        }
    }

    private Message exchangeRequest(String op, Map<String, Object> fields, boolean sessionScoped) {
        return exchangeRequest(op, fields, sessionScoped, Function.identity());
    }

    /**
     * Sends one request and reads its response, then applies {@code reader} to it while the Java
     * exceptions its callbacks threw are still known (errors inside a result need them: CB-3).
     */
    private <T> T exchangeRequest(String op, Map<String, Object> fields, boolean sessionScoped, Function<Message, T> reader) {
        lock.lock();
        List<String> callbacks = claimCallbacks(); // the callbacks encoded into this request's fields
        try {
            ensureUsable();
            if (!asyncQueue.isEmpty() && lock.getHoldCount() == 1) {
                dispatchAsync(); // calls this thread submitted earlier run first
            }
            long id = ++nextRequestId;
            return reader.apply(exchange(id, serialize(message(id, op, fields, sessionScoped ? sessionId : null)), callTimeout()));
        } finally {
            callbacks.forEach(liveCallbacks::remove); // CB-4: a callback dies with its request
            claimCallbacks().forEach(liveCallbacks::remove); // and so do callbacks that callback results carried
            if (lock.getHoldCount() == 1) {
                callbackErrors.clear();
            }
            lock.unlock();
        }
    }

    /** A request message; a session-scoped one also carries the ids the GC backstop enqueued. */
    private Map<String, Object> message(long id, String op, Map<String, Object> fields, String session) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("id", id);
        message.put("op", op);
        if (session != null) {
            message.put("session_id", session);
            List<String> release = drainAbandoned();
            if (release != null) {
                message.put("release", release);
            }
        }
        message.putAll(fields);
        return message;
    }

    // -- async calls --------------------------------------------------------------------------------

    @Override
    public java.util.concurrent.CompletableFuture<PyValue> callAsync(String dottedName, Object... args) {
        ensureUsable();
        Map<String, Object> fields = callFields("function", dottedName, null, Arrays.asList(args), Map.of(), "value");
        List<String> callbacks = claimCallbacks();
        if (!callbacks.isEmpty()) {
            callbacks.forEach(liveCallbacks::remove);
            throw new InvalidValueException("a callback cannot be passed to callAsync: while Python runs it, requests "
                    + "pipelined behind it would be taken for nested ones; use call()");
        }
        AsyncCall call = new AsyncCall("call", fields, sessionId, callTimeout());
        asyncQueue.add(call);
        if (dispatchScheduled.compareAndSet(false, true)) {
            ASYNC.execute(() -> {
                dispatchScheduled.set(false); // calls submitted from now on schedule another pass or join this one
                lock.lock();
                try {
                    dispatchAsync();
                } finally {
                    lock.unlock();
                }
            });
        }
        return call.future;
    }

    /**
     * Writes the queued async calls, up to {@link #ASYNC_WINDOW_BYTES} at a time, then reads their
     * responses in order: the worker runs them back to back while earlier answers travel. Caller
     * holds the lock.
     */
    private void dispatchAsync() {
        AsyncCall carried = null;
        while (carried != null || !asyncQueue.isEmpty()) {
            List<AsyncCall> written = new ArrayList<>();
            int bytes = 0;
            for (AsyncCall call; (call = carried != null ? carried : asyncQueue.poll()) != null; ) {
                carried = null;
                try {
                    ensureUsable();
                    if (!call.sessionId.equals(sessionId)) {
                        throw new BridgeClosedException("an async call of session " + call.sessionId + " cannot run: that "
                                + "session has ended (the connection was reset or returned to its pool)");
                    }
                    if (call.payload == null) {
                        call.id = ++nextRequestId;
                        call.payload = serialize(message(call.id, call.op, call.fields, call.sessionId));
                    }
                    if (bytes > 0 && bytes + call.bytes() > ASYNC_WINDOW_BYTES) {
                        carried = call; // the next round: read what is in flight first
                        break;
                    }
                    channel.write(call.payload.json, call.payload.attachments);
                    written.add(call);
                    bytes += call.bytes();
                } catch (BridgeException e) {
                    call.future.completeExceptionally(e);
                } catch (IOException e) {
                    call.future.completeExceptionally(breakWith(crashed(e)));
                }
            }
            maxAsyncInFlight = Math.max(maxAsyncInFlight, written.size());
            for (AsyncCall call : written) {
                try {
                    Message response = exchange(call.id, null, call.timeout);
                    call.future.complete(decodeValue(response.body.get("result"), response.attachments));
                } catch (ProtocolException e) {
                    call.future.completeExceptionally(breakWith(e));
                } catch (BridgeException e) {
                    call.future.completeExceptionally(e);
                }
            }
        }
    }

    private void failQueuedAsyncCalls() {
        for (AsyncCall call; (call = asyncQueue.poll()) != null; ) {
            call.future.completeExceptionally(new BridgeClosedException("connection was closed before the async call ran"));
        }
    }

    /** The most async requests that were in flight at once: lets tests prove they were pipelined. */
    int maxAsyncInFlight() {
        lock.lock();
        try {
            return maxAsyncInFlight;
        } finally {
            lock.unlock();
        }
    }

    /** The call timeout for this thread's calls now: its {@link #withCallTimeout} override, or the configured one. */
    private Duration callTimeout() {
        Duration timeout = callTimeoutOverride.get();
        if (timeout == null) {
            timeout = started ? config.callTimeout() : Duration.ZERO; // a SIGINT before the worker's handler is set would kill it
        }
        return timeout;
    }

    /**
     * Writes {@code payload} (unless null: it was written already, pipelined) and reads the response
     * to request {@code id}, interrupting the call once {@code timeout} (zero: none) has passed.
     */
    private Message exchange(long id, Outgoing payload, Duration timeout) {
        // A callback's nested call runs inside this exchange: keep the outer request's cancel state to restore.
        long outerId;
        Interruption outerInterruption;
        boolean outerKilled;
        ScheduledFuture<?> outerEscalation;
        synchronized (cancelLock) {
            outerId = inFlight;
            outerInterruption = interruption;
            outerKilled = killedToInterrupt;
            outerEscalation = escalation;
            inFlight = id;
            interruption = null;
            killedToInterrupt = false;
            escalation = null;
        }
        ScheduledFuture<?> timer = timeout.isZero() ? null : WATCHDOG.schedule(() -> {
            synchronized (cancelLock) {
                interrupt(id, Interruption.TIMEOUT);
            }
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        Message message;
        JsonNode response;
        Interruption interrupted;
        boolean killed;
        IOException failure = null;
        try {
            if (payload != null) {
                channel.write(payload.json, payload.attachments);
            }
            message = readMessage();
            while (message.body.has("op")) { // the worker asks us to run a callback before it answers (CB-2)
                answerCallback(message);
                message = readMessage();
            }
            response = message.body;
        } catch (FrameChannel.FrameException e) {
            throw breakWith(new ProtocolException(e.getMessage(), e));
        } catch (JsonProcessingException e) {
            throw breakWith(new ProtocolException("worker sent a response that is not valid JSON: " + e.getOriginalMessage(), e));
        } catch (IOException e) {
            message = null;
            response = null;
            failure = e;
        } finally {
            if (timer != null) {
                timer.cancel(false);
            }
            synchronized (cancelLock) {
                interrupted = interruption;
                killed = killedToInterrupt;
                if (escalation != null) {
                    escalation.cancel(false);
                }
                inFlight = outerId;
                interruption = outerInterruption;
                killedToInterrupt = outerKilled;
                escalation = outerEscalation;
            }
        }
        if (failure != null) {
            if (killed) {
                throw breakWith(interruptedFailure(interrupted, timeout, true, crashed(failure)));
            }
            throw breakWith(closed ? new BridgeClosedException("connection was closed during the call", failure) : crashed(failure));
        }
        JsonNode error = response.get("error");
        if (!response.isObject() || response.path("id").asLong(-1) != id) {
            if (error != null && response.path("id").isNull()) {
                throw breakWith(Errors.fromWire(error, callbackErrors::get)); // the worker rejected the stream itself
            }
            throw breakWith(new ProtocolException("response id " + response.get("id") + " does not answer request " + id));
        }
        if (response.path("ok").asBoolean(false)) {
            return message;
        }
        BridgeException failed = error == null
                ? new ProtocolException("response " + id + " has neither ok=true nor an error") : Errors.fromWire(error, callbackErrors::get);
        if (failed instanceof CallCancelledException && interrupted != null) {
            throw interruptedFailure(interrupted, timeout, false, null);
        }
        throw failed instanceof ProtocolException ? breakWith(failed) : failed;
    }

    /**
     * Runs the Java callback a worker asked for, on this (the calling) thread, and writes its reply.
     * The callback may call Python on this connection: the lock is reentrant and the exchange nests.
     */
    private void answerCallback(Message message) throws IOException {
        JsonNode request = message.body;
        if (!"callback".equals(request.path("op").asText()) || !request.path("cid").canConvertToLong()) {
            throw new ProtocolException("worker sent an unexpected request: " + request);
        }
        long cid = request.get("cid").asLong();
        String callbackId = request.path("callback_id").asText();
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("cid", cid);
        try {
            Object function = liveCallbacks.get(callbackId);
            if (function == null) {
                throw new IllegalStateException("callback " + callbackId + " was passed to a call that has returned");
            }
            List<Object> args = asList(decodeValue(request.path("args"), message.attachments).raw());
            Map<String, Object> kwargs = asKwargs(decodeValue(request.path("kwargs"), message.attachments).raw());
            reply.put("result", encode(Callbacks.invoke(function, args, kwargs)));
            reply.put("ok", true);
        } catch (Exception | StackOverflowError e) {
            long errorId = callbackIds.incrementAndGet();
            callbackErrors.put(errorId, e);
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("code", "callback_error");
            error.put("type", e.getClass().getName());
            error.put("message", String.valueOf(e.getMessage()));
            error.put("java_error_id", errorId);
            reply.remove("result");
            reply.put("ok", false);
            reply.put("error", error);
        }
        Outgoing outgoing = serialize(reply);
        channel.write(outgoing.json, outgoing.attachments);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> asList(Object decoded) {
        if (!(decoded instanceof List)) {
            throw new ProtocolException("callback args must be a list, got " + decoded);
        }
        return (List<Object>) decoded;
    }

    private static Map<String, Object> asKwargs(Object decoded) {
        if (decoded == null) {
            return Map.of();
        }
        if (!(decoded instanceof Map)) {
            throw new ProtocolException("callback kwargs must be an object, got " + decoded);
        }
        Map<String, Object> kwargs = new LinkedHashMap<>();
        ((Map<?, ?>) decoded).forEach((k, v) -> kwargs.put(String.valueOf(k), v));
        return kwargs;
    }

    /**
     * Interrupts request {@code id} if it is still the one in flight: SIGINT now, SIGKILL after
     * cancelGrace. Where signals are unavailable the worker is killed at once. Caller holds cancelLock.
     */
    private void interrupt(long id, Interruption why) {
        if (id == 0 || inFlight != id || interruption != null || closed) {
            return;
        }
        interruption = why;
        if (process.signal(Signal.INT)) {
            escalation = WATCHDOG.schedule(() -> killToInterrupt(id), config.cancelGrace().toNanos(), TimeUnit.NANOSECONDS);
        } else {
            killToInterrupt(id);
        }
    }

    private void killToInterrupt(long id) {
        synchronized (cancelLock) {
            if (inFlight != id) {
                return;
            }
            killedToInterrupt = true;
        }
        process.signal(Signal.KILL); // the blocked reader sees EOF and reports the interruption
    }

    private BridgeException interruptedFailure(Interruption why, Duration timeout, boolean killed, Throwable cause) {
        String what = why == Interruption.TIMEOUT ? "the call exceeded its timeout of " + timeout : "the call was cancelled";
        String outcome = killed
                ? "; it did not stop within cancelGrace=" + config.cancelGrace() + ", so the worker was killed and the connection is broken"
                : "; it was interrupted (KeyboardInterrupt) and the session and its refs are intact";
        return why == Interruption.TIMEOUT
                ? new CallTimeoutException(what + outcome, killed, cause)
                : new CallCancelledException(what + outcome, killed, cause);
    }

    /** Reads the next message and its attachments. */
    private Message readMessage() throws IOException {
        JsonNode body = mapper.readTree(channel.read());
        JsonNode count = body.get("attachments");
        if (count == null) {
            return new Message(body, List.of());
        }
        if (!count.canConvertToInt() || count.intValue() < 0 || count.intValue() > maxAttachments) {
            throw new FrameChannel.FrameException("worker announced " + count + " attachments; max_attachments=" + maxAttachments);
        }
        List<byte[]> attachments = new ArrayList<>(count.intValue());
        for (int i = 0; i < count.intValue(); i++) {
            attachments.add(channel.read());
        }
        return new Message(body, attachments);
    }

    /**
     * The message as JSON plus its attachments. Checked against the frame limits here, before a
     * byte is written, so that an oversized argument is the caller's error and not a broken stream.
     */
    private Outgoing serialize(Map<String, Object> message) {
        List<byte[]> attachments = new ArrayList<>(0);
        byte[] json;
        try {
            json = mapper.writer().withAttribute(ValueCodec.Attachment.class, attachments).writeValueAsBytes(message);
        } catch (JsonProcessingException e) {
            throw new InvalidValueException("cannot write the request: " + e.getOriginalMessage());
        }
        if (!attachments.isEmpty()) {
            if (attachments.size() > maxAttachments) {
                throw new InvalidValueException("the request carries " + attachments.size() + " binary values; the worker "
                        + "accepts max_attachments=" + maxAttachments + " per message");
            }
            json = withAttachmentCount(json, attachments.size());
        }
        checkFrameSize(json.length, "request");
        for (byte[] attachment : attachments) {
            checkFrameSize(attachment.length, "binary value");
        }
        return new Outgoing(json, attachments);
    }

    /** Adds {@code "attachments": n} to a serialized JSON object (it ends with '}'): no second serialization. */
    private static byte[] withAttachmentCount(byte[] json, int count) {
        byte[] field = (",\"attachments\":" + count + "}").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] out = Arrays.copyOf(json, json.length - 1 + field.length);
        System.arraycopy(field, 0, out, json.length - 1, field.length);
        return out;
    }

    private void checkFrameSize(int length, String what) {
        if (length > config.maxFrameBytes()) {
            throw new InvalidValueException("the " + what + " is " + length + " bytes; the largest frame is maxFrameBytes="
                    + config.maxFrameBytes());
        }
    }

    private List<String> drainAbandoned() {
        List<String> ids = null;
        for (String[] entry; (entry = abandoned.poll()) != null; ) {
            if (entry[0].equals(sessionId)) {
                if (ids == null) {
                    ids = new ArrayList<>();
                }
                ids.add(entry[1]);
            }
        }
        return ids;
    }

    private void ensureUsable() {
        if (closed) {
            throw new BridgeClosedException("connection is closed");
        }
        BridgeException cause = broken;
        if (cause != null) {
            throw new BridgeClosedException("connection is broken: " + cause.getMessage(), cause);
        }
    }

    private BridgeException breakWith(BridgeException cause) {
        if (broken == null) {
            broken = cause;
            process.kill();
        }
        return cause;
    }

    private WorkerCrashedException crashed(IOException e) {
        if (!process.awaitExit(Duration.ofSeconds(1))) {
            process.kill(); // alive but its stream is gone: it cannot serve this session any more
        }
        process.drainStderr(Duration.ofMillis(500));
        List<String> tail = process.recentStderr();
        return new WorkerCrashedException("worker " + process.pid() + " " + process.exitDescription() + " (" + e.getMessage() + ")"
                + stderrExcerpt(tail), process.exitDescription(), tail, e);
    }

    private static String stderrExcerpt(List<String> lines) {
        if (lines.isEmpty()) {
            return "";
        }
        return "; its last stderr lines:\n  " + lines.stream().skip(Math.max(0, lines.size() - 15)).collect(Collectors.joining("\n  "));
    }

    // -- refs ---------------------------------------------------------------------------------------

    private RefHandle newRef(JsonNode node, Map<String, RefHandle> seen) {
        String id = node.path("id").textValue();
        RefHandle known = seen.get(id);
        if (known != null) {
            return known;
        }
        String refSession = node.path("session_id").asText(sessionId);
        if (id == null || id.isEmpty() || !refSession.equals(sessionId)) {
            throw new ProtocolException("worker returned a malformed ref or one of another session: " + node);
        }
        Ref ref = new Ref(this, node.path("__type__").asText(), id, refSession, node.path("python_module").asText(""),
                node.path("type_name").asText(""), node.path("worker_id").asText(workerId),
                config.leakDetection() ? new Throwable("ref created here") : null);
        seen.put(id, ref);
        return ref;
    }

    private Object wireRef(RefHandle handle) {
        if (!(handle instanceof Ref)) {
            throw new InvalidRefException(InvalidRefException.Reason.MALFORMED,
                    handle.getClass().getName() + " is not a handle made by this driver");
        }
        Ref ref = (Ref) handle;
        ref.checkUsable();
        if (ref.connection() != this) {
            throw new SessionMismatchException(sessionId, ref.sessionId(), ref.id(),
                    "ref " + ref.id() + " belongs to session " + ref.sessionId() + " of another connection, not to session "
                            + sessionId + "; a ref can only be used on the connection that made it");
        }
        return ref.wire();
    }
}
