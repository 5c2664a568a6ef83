package io.snakebridge.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.InvalidValueException;
import io.snakebridge.ProtocolException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Java callbacks Python may call (PROTOCOL.md CB-*): the live ones, running them when the worker
 * asks, and replying. Every request from the worker gets exactly one reply: a result, or an error
 * the Python call raises; if not even an error can be sent, the connection must break.
 * Public: the connection facade registers the callbacks it encodes.
 */
public final class CallbackDispatcher {
    /** Callbacks Python may call now, by id; each lives as long as the request that carried it (CB-4). */
    private final Map<String, Object> live = new ConcurrentHashMap<>();
    /** Exported callbacks (CB-6), by id: they live until closed or the session ends, whatever the requests. */
    private final Map<String, Object> exported = new ConcurrentHashMap<>();
    /** Ids of callbacks encoded on this thread and not yet claimed by a request. */
    private final ThreadLocal<List<String>> unclaimed = ThreadLocal.withInitial(ArrayList::new);
    private final AtomicLong ids = new AtomicLong();
    /** Exceptions callbacks threw during the current outermost request, by the id Python was told (CB-3). */
    private final Map<Long, Throwable> thrown = new ConcurrentHashMap<>();
    private final ApiCodec codec;

    CallbackDispatcher(ApiCodec codec) {
        this.codec = codec;
    }

    /** Makes {@code function} callable from Python until the request it is encoded into ends; returns its id. */
    public String register(Object function) {
        String id = "cb" + ids.incrementAndGet();
        live.put(id, function);
        unclaimed.get().add(id);
        return id;
    }

    /** Makes {@code function} callable from Python until {@link #unexport} or the session ends (CB-6); returns its id. */
    public String export(Object function) {
        String id = "x" + ids.incrementAndGet();
        exported.put(id, function);
        return id;
    }

    /** Ends an exported callback: Python's later calls of it raise CallbackError. */
    public void unexport(String id) {
        exported.remove(id);
    }

    /** Whether an exported callback is still callable. */
    public boolean isExported(String id) {
        return exported.containsKey(id);
    }

    /** The session ended (reset): so did every callback it exported. */
    void endExported() {
        exported.clear();
    }

    /** The callbacks this thread encoded since the last claim: the request about to be sent owns them. */
    List<String> claim() {
        List<String> claimed = unclaimed.get();
        if (claimed.isEmpty()) {
            return List.of();
        }
        unclaimed.set(new ArrayList<>());
        return claimed;
    }

    /** Ends the callbacks of a request that has returned (CB-4), and any its callbacks' results carried. */
    void release(List<String> claimed) {
        claimed.forEach(live::remove);
        claim().forEach(live::remove);
    }

    /** The Java exception a callback threw, by the id Python was told; null if unknown. */
    Throwable thrown(long errorId) {
        return thrown.get(errorId);
    }

    /** Called when the outermost request ends: its callbacks' exceptions are no longer needed. */
    void forgetThrown() {
        thrown.clear();
    }

    /**
     * Runs the callback the worker asked for, on this (the calling) thread, and writes its reply.
     * The callback may call Python on this connection: the request lock is reentrant and the
     * exchange nests. A result that cannot be sent (too large for a frame, say), or a request whose
     * arguments were past a response cap, is replied as the callback's error, so the Python call
     * unwinds instead of waiting for a reply forever.
     */
    void answer(Message request, MessageChannel channel) throws IOException {
        JsonNode body = request.body();
        if (!"callback".equals(body.path("op").asText()) || !body.path("cid").canConvertToLong()) {
            throw new ProtocolException("worker sent an unexpected request: " + body);
        }
        long cid = body.get("cid").asLong();
        MessageChannel.Outgoing reply;
        try {
            if (request.refusal() != null) { // its arguments were dropped: Python gets this as the callback's error
                throw new InvalidValueException(request.refusal());
            }
            Object result = Callbacks.invoke(function(body.path("callback_id").asText()),
                    asList(codec.decode(body.path("args"), request)), asKwargs(codec.decode(body.path("kwargs"), request)));
            Map<String, Object> ok = reply(cid, true);
            ok.put("result", codec.encode(result));
            reply = channel.serialize(ok);
        } catch (Exception | StackOverflowError e) {
            reply = errorReply(cid, e, channel);
        }
        channel.write(reply);
    }

    private Object function(String callbackId) {
        Object function = live.get(callbackId);
        if (function == null) {
            function = exported.get(callbackId);
        }
        if (function == null) {
            throw new IllegalStateException("callback " + callbackId + (callbackId.startsWith("x")
                    ? " was exported and has been closed, or its session has ended"
                    : " was passed to a call that has returned"));
        }
        return function;
    }

    private MessageChannel.Outgoing errorReply(long cid, Throwable e, MessageChannel channel) {
        long errorId = ids.incrementAndGet();
        thrown.put(errorId, e);
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", "callback_error");
        error.put("type", e.getClass().getName());
        error.put("message", String.valueOf(e.getMessage()));
        error.put("java_error_id", errorId);
        Map<String, Object> reply = reply(cid, false);
        reply.put("error", error);
        try {
            return channel.serialize(reply);
        } catch (InvalidValueException unsendable) {
            throw new ProtocolException("cannot send callback " + cid + "'s error to the worker (" + unsendable.getMessage()
                    + "); the worker would wait for its reply forever", e);
        }
    }

    private static Map<String, Object> reply(long cid, boolean ok) {
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("cid", cid);
        reply.put("ok", ok);
        return reply;
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
}
