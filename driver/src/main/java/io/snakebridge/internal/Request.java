package io.snakebridge.internal;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One request as the driver sends it: an op and its fields (PROTOCOL.md OP-*). Every request is
 * built here, so op names and field names are written once. Arguments arrive already encoded.
 * Public: the connection facade and the batch in {@code io.snakebridge} build theirs here.
 */
public final class Request {
    /** The ops of PROTOCOL.md; the wire name is the lower-case constant name. */
    public enum Op {
        HANDSHAKE, OPEN_SESSION, RESET_SESSION, SESSION_INFO, PING, CALL, CALL_METHOD, GET_ATTR, SET_ATTR, GET, APPLY,
        STREAM_NEXT, RELEASE_REF, BATCH, PREPARE, CALL_PREPARED, EXECUTE_PREPARED;

        final String wire = name().toLowerCase(Locale.ROOT);
    }

    /** What a call sends back (OP-CALL-*): its value, a ref, an ndarray, or nothing (in a batch). */
    public enum Want {
        VALUE, REF, ARRAY, NONE;

        final String wire = name().toLowerCase(Locale.ROOT);
    }

    final Op op;
    /** Session-scoped requests carry the session id and the ids the GC backstop enqueued. */
    final boolean sessionScoped;
    private final Map<String, Object> fields;
    /** An execute_prepared's columns as primitive arrays, for the lean encoding (LEAN-1); null if any is not one. */
    private List<Object> leanColumns;

    private Request(Op op, boolean sessionScoped, Map<String, Object> fields) {
        this.op = op;
        this.sessionScoped = sessionScoped;
        this.fields = fields;
    }

    private static Request of(Op op) {
        return new Request(op, true, new LinkedHashMap<>());
    }

    private Request with(String field, Object value) {
        fields.put(field, value);
        return this;
    }

    /** A call of a function by dotted name; {@code kwargs} is null when there are none. */
    public static Request call(String function, Object args, Object kwargs, Want want) {
        return of(Op.CALL).with("function", function).withArguments(args, kwargs, want);
    }

    /** A call of a method of {@code target} (a wire ref or promise). */
    public static Request callMethod(Object target, String method, Object args, Object kwargs, Want want) {
        return of(Op.CALL_METHOD).with("object", target).with("method", method).withArguments(args, kwargs, want);
    }

    private Request withArguments(Object args, Object kwargs, Want want) {
        with("args", args);
        if (kwargs != null) {
            with("kwargs", kwargs);
        }
        return want == Want.VALUE ? this : with("want", want.wire);
    }

    /** Reads a global dotted name ({@code "math.pi"}). */
    public static Request getAttr(String dottedName) {
        return of(Op.GET_ATTR).with("name", dottedName);
    }

    /** Reads an attribute path of {@code target}. */
    public static Request getAttr(Object target, String name) {
        return of(Op.GET_ATTR).with("object", target).with("name", name);
    }

    public static Request setAttr(Object target, String name, Object value) {
        return of(Op.SET_ATTR).with("object", target).with("name", name).with("value", value);
    }

    /** A ref's own object, as a value or an array (OP-GET-1). */
    public static Request get(Object target, Want want) {
        return of(Op.GET).with("object", target).with("want", want.wire);
    }

    /** A Python protocol on {@code target} (OP-APPLY-1). */
    public static Request apply(Object target, String action, Object args) {
        return of(Op.APPLY).with("object", target).with("action", action).with("args", args);
    }

    public static Request streamNext(Object iterator, int maxItems) {
        return of(Op.STREAM_NEXT).with("object", iterator).with("max_items", maxItems);
    }

    public static Request releaseRefs(List<String> ids) {
        return of(Op.RELEASE_REF).with("ids", ids);
    }

    public static Request sessionInfo() {
        return of(Op.SESSION_INFO);
    }

    public static Request ping() {
        return new Request(Op.PING, false, new LinkedHashMap<>());
    }

    static Request resetSession(String newSessionId) {
        return of(Op.RESET_SESSION).with("new_session_id", newSessionId);
    }

    static Request handshake(int protocolVersion, int minSupportedVersion, List<String> capabilities, Map<String, Number> limits) {
        return new Request(Op.HANDSHAKE, false, new LinkedHashMap<>()).with("protocol_version", protocolVersion)
                .with("min_supported_version", minSupportedVersion).with("client_capabilities", capabilities).with("limits", limits);
    }

    /** A session's limits and module policy (SESS-*); the policy is sent only when it restricts something. */
    public static Request openSession(int maxRefs, String refLimitPolicy, Duration refTtl, List<String> allowModules,
            List<String> denyModules) {
        Map<String, Object> limits = new LinkedHashMap<>();
        limits.put("max_refs", maxRefs);
        limits.put("ref_limit_policy", refLimitPolicy);
        limits.put("ref_ttl_seconds", refTtl.toNanos() / 1e9);
        Request request = of(Op.OPEN_SESSION).with("limits", limits);
        if (!allowModules.isEmpty() || !denyModules.isEmpty()) {
            request.with("policy", Map.of("allow_modules", allowModules, "deny_modules", denyModules));
        }
        return request;
    }

    /** Resolves {@code function} (a dotted name, or a method path of {@code target} if not null) once (PREP-1). */
    public static Request prepare(Object target, String function) {
        Request request = of(Op.PREPARE).with("function", function);
        return target == null ? request : request.with("object", target);
    }

    /** One call of a prepared call by its id, with its encoded arguments (PREP-2). */
    public static Request callPrepared(String preparedId, Object args) {
        return of(Op.CALL_PREPARED).with("prepared", preparedId).with("args", args);
    }

    /**
     * A prepared call once per row (PREP-3): {@code columns} is one encoded list or array per
     * argument position, or null when {@code rows} (a list of encoded argument lists) carries them.
     * {@code dtype} asks for the results as one array of that dtype (PREP-4), or is null for values.
     */
    public static Request executePrepared(String preparedId, Object rows, Object columns, String dtype) {
        Request request = of(Op.EXECUTE_PREPARED).with("prepared", preparedId);
        request = columns != null ? request.with("columns", columns) : request.with("rows", rows);
        return dtype == null ? request : request.with("want", Want.ARRAY.wire).with("dtype", dtype);
    }

    /** Keeps the columns of an execute_prepared as {@code double[]} and {@code long[]} too, for the lean encoding. */
    public Request withLeanColumns(List<Object> primitiveColumns) {
        leanColumns = primitiveColumns;
        return this;
    }

    List<Object> leanColumns() {
        return leanColumns;
    }

    Object field(String name) {
        return fields.get(name);
    }

    /** Many calls in one request (BATCH-1); each is a {@link #asBatchEntry()}. */
    public static Request batch(List<Object> calls) {
        return of(Op.BATCH).with("calls", calls);
    }

    /** Keeps the result in the worker for later calls of a batch only (BATCH-2: want none). */
    public Request discardResult() {
        return with("want", Want.NONE.wire);
    }

    /** This request with its result kept in Python as a ref (OP-CALL-2). */
    public Request keepResult() {
        return with("want", Want.REF.wire);
    }

    /** This request as one call of a batch: its op and fields, without envelope. */
    public Map<String, Object> asBatchEntry() {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("op", op.wire);
        entry.putAll(fields);
        return entry;
    }

    /** The message for request {@code id}; {@code release} is null or the ids to release with it. */
    Map<String, Object> envelope(long id, String sessionId, List<String> release) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("id", id);
        message.put("op", op.wire);
        if (sessionScoped) {
            message.put("session_id", sessionId);
            if (release != null) {
                message.put("release", release);
            }
        }
        message.putAll(fields);
        return message;
    }
}
