package io.snakebridge.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.BridgeClosedException;
import io.snakebridge.BridgeConfig;
import io.snakebridge.BridgeException;
import io.snakebridge.CallCancelledException;
import io.snakebridge.InvalidValueException;
import io.snakebridge.ProtocolException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol conversation with one worker, as pgjdbc's QueryExecutor: one lock, request ids, and
 * one send-and-await path that sync calls, batches and pipelined async calls all take. A failure
 * that leaves the stream unusable breaks the connection here, in one place ({@link #breakWith}).
 * The calling thread does the I/O of its own request (a call costs one round trip, no hand-off);
 * only async calls are written and read on a pipeline thread. Public: the connection facade in
 * {@code io.snakebridge} sends every request through it.
 */
public final class RequestExecutor {
    private static final Logger LOG = LoggerFactory.getLogger(RequestExecutor.class);
    private final BridgeConfig config;
    private final Transport transport;
    private final MessageChannel channel;
    private final Interrupter interrupter;
    private final CallbackDispatcher callbacks;
    private final ApiCodec codec;
    private final SessionRefs session = new SessionRefs();
    private final AsyncPipeline async = new AsyncPipeline(this);
    private final ReentrantLock lock = new ReentrantLock();
    private final CallTimeouts callTimeouts;
    private long nextRequestId; // guarded by lock
    private WorkerHello hello;
    private boolean leanFrames; // the worker speaks the lean encoding (LEAN-*): set from its hello
    private long leanSent; // guarded by lock
    /** False until the handshake and the first session are done: startTimeout bounds those, not callTimeout. */
    private volatile boolean started;
    private volatile boolean closed;
    private volatile BridgeException broken;
    private volatile RequestObserver observer;

    RequestExecutor(BridgeConfig config, Transport transport, MessageChannel channel, ApiCodec codec) {
        this.config = config;
        this.transport = transport;
        this.channel = channel;
        this.interrupter = new Interrupter(transport, config.cancelGrace());
        this.callTimeouts = new CallTimeouts(config.callTimeout());
        this.callbacks = new CallbackDispatcher(codec);
        this.codec = codec;
    }

    // -- the request path ---------------------------------------------------------------------------

    /** Sends {@code request} and returns its result. */
    public JsonNode request(Request request) {
        return execute(request, Message::result);
    }

    /**
     * Sends {@code request}, awaits its response, and applies {@code reader} to it while the Java
     * exceptions its callbacks threw are still known (errors inside a result need them: CB-3).
     */
    public <T> T execute(Request request, Function<Message, T> reader) {
        long start = observer == null ? 0 : System.nanoTime(); // the per-call path pays for timing only when observed
        BridgeException failure = null;
        lock.lock();
        List<String> claimed = callbacks.claim(); // the callbacks encoded into this request's arguments
        try {
            ensureUsable();
            if (lock.getHoldCount() == 1) {
                async.drain(); // async calls this thread submitted earlier run first
            }
            long id = nextId();
            return read(exchange(id, serialize(id, request), callTimeout()), reader);
        } catch (BridgeException e) {
            failure = e;
            throw e;
        } finally {
            callbacks.release(claimed);
            if (lock.getHoldCount() == 1) {
                callbacks.forgetThrown();
            }
            lock.unlock();
            observe(request, start, failure);
        }
    }

    /** Tells the observer, if any, that {@code request} has ended; requests of the start are not the user's. */
    void observe(Request request, long start, BridgeException failure) {
        RequestObserver told = observer;
        if (told != null && started) {
            try {
                told.ended(request.op.wire, System.nanoTime() - start, failure);
            } catch (RuntimeException e) { // a listener's bug must not fail or hide the call's own outcome
                LOG.warn("request listener failed", e);
            }
        }
    }

    /**
     * Runs {@code action} when the worker process ends while this connection is open (not when its
     * own close ends it): the moment a pool can evict it, idle or not.
     */
    public void onWorkerExit(Runnable action) {
        transport.onExit(() -> {
            if (!closed) {
                action.run();
            }
        });
    }

    /** How the worker ended ("killed by SIGKILL"), or "running". */
    public String exitDescription() {
        return transport.exitDescription();
    }

    /** Tells {@code observer} of every request's end from now on, on every path alike. */
    public void observeWith(RequestObserver observer) {
        this.observer = observer;
    }

    /** Queues {@code request} to be pipelined with other async calls, in submission order (PROTOCOL.md pipelining). */
    public <T> CompletableFuture<T> submit(Request request, Function<Message, T> reader) {
        List<String> claimed = callbacks.claim();
        if (!claimed.isEmpty()) {
            callbacks.release(claimed);
            throw new InvalidValueException("a callback cannot be passed to callAsync: while Python runs it, requests "
                    + "pipelined behind it would be taken for nested ones; use call()");
        }
        ensureUsable();
        return async.submit(request, reader, session.id(), callTimeout());
    }

    long nextId() {
        return ++nextRequestId;
    }

    /** The request's frame: lean where both sides speak it and it has a lean form (LEAN-1), JSON otherwise. */
    MessageChannel.Outgoing serialize(long id, Request request) {
        List<String> release = request.sessionScoped ? session.drainAbandoned() : null;
        if (release == null && leanFrames) { // a release list travels in JSON only
            byte[] lean = Lean.request(id, session.id(), request);
            if (lean != null) {
                leanSent++;
                return channel.raw(lean);
            }
        }
        return channel.serialize(request.envelope(id, session.id(), release));
    }

    /** Writes a pipelined request without flushing it; {@link #flush()} sends the requests appended so far. */
    void append(MessageChannel.Outgoing payload) {
        try {
            channel.append(payload);
        } catch (IOException e) {
            throw breakWith(WorkerOutput.crash(transport, e));
        }
    }

    void flush() {
        try {
            channel.flush();
        } catch (IOException e) {
            throw breakWith(WorkerOutput.crash(transport, e));
        }
    }

    /** Applies a response's reader; a response that cannot be read means the stream cannot be trusted. */
    <T> T read(Message response, Function<Message, T> reader) {
        try {
            return reader.apply(response);
        } catch (ProtocolException e) {
            throw breakWith(e);
        }
    }

    /**
     * Writes {@code payload} (unless null: it was written already, pipelined) and reads the response
     * to request {@code id}, answering the worker's callback requests meanwhile; the request is
     * interrupted once {@code timeout} (zero: none) has passed.
     */
    Message exchange(long id, MessageChannel.Outgoing payload, Duration timeout) {
        Message message = null;
        IOException failure = null;
        Interrupter.Scope scope = interrupter.enter(id, timeout);
        try {
            if (payload != null) {
                channel.write(payload);
            }
            message = channel.read();
            while (message.isRequest()) { // the worker asks us to run a callback before it answers (CB-2)
                callbacks.answer(message, channel);
                message = channel.read();
            }
        } catch (FrameChannel.FrameException e) {
            throw breakWith(new ProtocolException(e.getMessage(), e));
        } catch (JsonProcessingException e) {
            throw breakWith(new ProtocolException("worker sent a response that is not valid JSON: " + e.getOriginalMessage(), e));
        } catch (ProtocolException e) {
            throw breakWith(e);
        } catch (IOException e) {
            failure = e;
        } finally {
            scope.close();
        }
        if (failure != null) {
            if (scope.killed()) {
                throw breakWith(scope.failure(WorkerOutput.crash(transport, failure)));
            }
            throw breakWith(closed ? new BridgeClosedException("connection was closed during the call", failure) : WorkerOutput.crash(transport, failure));
        }
        return checkResponse(id, message, scope);
    }

    private Message checkResponse(long id, Message message, Interrupter.Scope scope) {
        JsonNode response = message.body();
        JsonNode error = response.get("error");
        if (!response.isObject() || response.path("id").asLong(-1) != id) {
            if (error != null && response.path("id").isNull()) {
                throw breakWith(errorFrom(error)); // the worker rejected the stream itself
            }
            throw breakWith(new ProtocolException("response id " + response.get("id") + " does not answer request " + id));
        }
        if (message.refusal() != null) {
            throw new InvalidValueException(message.refusal()); // past a response cap, dropped whole: the stream is in step
        }
        if (response.path("ok").asBoolean(false)) {
            return message;
        }
        BridgeException failed = error == null
                ? new ProtocolException("response " + id + " has neither ok=true nor an error") : errorFrom(error);
        if (failed instanceof CallCancelledException && scope.why() != null) {
            throw scope.failure(null);
        }
        throw failed instanceof ProtocolException ? breakWith(failed) : failed;
    }

    /** The exception for an error object of the protocol (ERR-*), with the Java causes its callbacks threw. */
    public BridgeException errorFrom(JsonNode error) {
        return codec.error(error, callbacks::thrown);
    }

    /** The same, for an error that arrived inside a result and was decoded (a stream's late error). */
    public BridgeException errorFrom(Object decodedError) {
        return errorFrom(channel.mapper().<JsonNode>valueToTree(decodedError));
    }

    // -- state ----------------------------------------------------------------------------------------

    void ensureUsable() {
        if (closed) {
            throw new BridgeClosedException("connection is closed");
        }
        BridgeException cause = broken;
        if (cause != null) {
            throw new BridgeClosedException("connection is broken: " + cause.getMessage(), cause);
        }
    }

    /** Marks the connection broken by {@code cause} and stops the worker; returns {@code cause} to throw. */
    BridgeException breakWith(BridgeException cause) {
        if (broken == null) {
            broken = cause;
            transport.kill();
        }
        return cause;
    }

    /** The connection was closed by its user (not broken). */
    public boolean isClosedByUser() {
        return closed;
    }

    /** Why the connection broke, or null. */
    public BridgeException broken() {
        return broken;
    }

    public boolean isUsable() {
        return !closed && broken == null && transport.isAlive();
    }

    /** Whether refs of {@code sessionId} are still live here: the connection is usable and holds that session. */
    public boolean holdsSession(String sessionId) {
        return !closed && broken == null && sessionId.equals(session.id());
    }

    public String sessionId() {
        return session.id();
    }

    /** Called by the cleaner thread: never does I/O, only enqueues. */
    public void abandon(String sessionId, String refId) {
        if (holdsSession(sessionId)) {
            session.abandon(sessionId, refId);
        }
    }

    public WorkerHello hello() {
        return hello;
    }

    public CallbackDispatcher callbacks() {
        return callbacks;
    }

    /** How messages name the worker, e.g. {@code "worker 4242"}. */
    public String workerName() {
        return transport.name();
    }

    // -- session, cancel, timeouts, close -------------------------------------------------------------

    /** Ends the session (every ref released) and starts a new one, in one round trip; returns the refs released. */
    public int resetSession() {
        lock.lock();
        try {
            async.drain(); // async calls of the ending session still run in it
            String next = SessionRefs.newId();
            int released = request(Request.resetSession(next)).asInt();
            session.moveTo(next);
            callbacks.endExported(); // an exported callback lives no longer than its session (CB-6)
            return released;
        } finally {
            lock.unlock();
        }
    }

    public void cancel() {
        interrupter.cancel();
    }

    /** Runs {@code calls} with {@code timeout} as this thread's call timeout. */
    public <T> T withCallTimeout(Duration timeout, Supplier<T> calls) {
        return callTimeouts.with(timeout, calls);
    }

    /** The call timeout for this thread's calls now; none until the worker has started (a SIGINT before its handler is set would kill it). */
    private Duration callTimeout() {
        return started ? callTimeouts.current() : Duration.ZERO;
    }

    /** Closes the connection: EOF ends the worker, and with it the session and all its refs (no release round trip). */
    public void close(Duration shutdownGrace) {
        if (closed) {
            return;
        }
        closed = true;
        interrupter.shutDown();
        async.failQueued();
        transport.shutdown(shutdownGrace);
    }

    public void abort() {
        closed = true;
        interrupter.shutDown();
        transport.kill();
        async.failQueued();
    }

    void runLocked(Runnable work) {
        lock.lock();
        try {
            work.run();
        } finally {
            lock.unlock();
        }
    }

    // -- start ----------------------------------------------------------------------------------------

    void adopt(WorkerHello agreed) {
        hello = agreed;
        leanFrames = agreed.has("lean");
        channel.adopt(agreed);
    }

    void markStarted() {
        started = true;
    }

    Transport transport() {
        return transport;
    }

    // -- test hooks -----------------------------------------------------------------------------------

    /** Requests sent so far: lets tests prove that a failure was detected without a round trip. */
    public long requestsSent() {
        return nextRequestId;
    }

    /** Requests sent as lean frames so far: lets tests prove which requests went lean (LEAN-1). */
    public long leanRequestsSent() {
        return leanSent;
    }

    /** The most async requests that were in flight at once: lets tests prove they were pipelined. */
    public int maxAsyncInFlight() {
        lock.lock();
        try {
            return async.maxInFlight();
        } finally {
            lock.unlock();
        }
    }

    /** The last lines the worker wrote to its diagnostic output (what user code printed lands there too). */
    public List<String> recentWorkerOutput() {
        return transport.recentOutput(Duration.ofMillis(50));
    }
}
