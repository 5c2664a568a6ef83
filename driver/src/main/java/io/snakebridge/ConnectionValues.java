package io.snakebridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.snakebridge.internal.ApiCodec;
import io.snakebridge.internal.Message;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/**
 * Values as one connection sends and reads them: its refs (a handle made here is usable only on its
 * own connection), its Java callbacks, and its caps. Encoding is {@link ValueCodec}'s, decoding
 * {@link ValueDecoder}'s; this class adds what only the connection knows. A batch extends it with
 * its promises.
 */
class ConnectionValues implements ValueCodec.Handles, ApiCodec {
    private final WorkerConnection connection;
    private final BridgeConfig config;

    ConnectionValues(WorkerConnection connection, BridgeConfig config) {
        this.connection = connection;
        this.config = config;
    }

    BridgeConfig config() {
        return config;
    }

    // -- Java -> wire ---------------------------------------------------------------------------------

    @Override
    public Object encode(Object value) {
        return ValueCodec.encode(value, this);
    }

    @Override
    public Object ref(RefHandle handle) {
        if (!(handle instanceof Ref)) {
            throw new InvalidRefException(InvalidRefException.Reason.MALFORMED,
                    handle.getClass().getName() + " is not a handle made by this driver");
        }
        Ref ref = (Ref) handle;
        ref.checkUsable();
        if (ref.connection() != connection) {
            String sessionId = connection.sessionId();
            throw new SessionMismatchException(sessionId, ref.sessionId(), ref.id(),
                    "ref " + ref.id() + " belongs to session " + ref.sessionId() + " of another connection, not to session "
                            + sessionId + "; a ref can only be used on the connection that made it");
        }
        return ref.wire();
    }

    @Override
    public Object callback(Object function, int arity) {
        Map<String, Object> wire = ValueCodec.tag("callback", "ref_id", connection.executor().callbacks().register(function));
        wire.put("arity", arity);
        return wire;
    }

    @Override
    public Object exported(ExportedCallback callback) {
        if (callback.dispatcher() != connection.executor().callbacks() || !callback.isOpen()) {
            throw new InvalidValueException(callback + " is closed, or was exported by another connection or an ended "
                    + "session; an exported callback can only be passed on the connection and in the session that made it");
        }
        Map<String, Object> wire = ValueCodec.tag("callback", "ref_id", callback.id());
        wire.put("arity", callback.arity());
        wire.put("exported", true);
        return wire;
    }

    @Override
    public int attachmentMinBytes() { // MAX_VALUE for a worker without the capability: everything inline
        return connection.executor().hello().has("attachments") ? Defaults.ATTACHMENT_MIN_BYTES : Integer.MAX_VALUE;
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
        connection.executor().hello().require("arrays", "an array argument");
    }

    @Override
    public BridgeException error(JsonNode error, LongFunction<Throwable> callbackThrown) {
        return Errors.fromWire(error, callbackThrown);
    }

    // -- wire -> Java ---------------------------------------------------------------------------------

    @Override
    public Object decode(JsonNode value, Message message) {
        return value(value, message).raw();
    }

    /** A response's result. */
    PyValue result(Message response) {
        return value(response.result(), response);
    }

    /** One value of a message, with one handle per ref id (the worker sends one ref per object). */
    PyValue value(JsonNode value, Message message) {
        MessageValues in = new MessageValues(message.attachments());
        Object raw = ValueDecoder.decode(value == null ? NullNode.getInstance() : value, in);
        return new PyValue(raw, in.refs == null ? List.of() : List.copyOf(in.refs.values()));
    }

    /** The refs and attachment frames of one message being decoded. */
    private final class MessageValues implements ValueDecoder.Incoming {
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
            return refs.computeIfAbsent(node.path("id").asText(""), id -> newRef(node));
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

    private Ref newRef(JsonNode node) {
        String id = node.path("id").textValue();
        String sessionId = connection.sessionId();
        String refSession = node.path("session_id").asText(sessionId);
        if (id == null || id.isEmpty() || !refSession.equals(sessionId)) {
            throw new ProtocolException("worker returned a malformed ref or one of another session: " + node);
        }
        return new Ref(connection, node.path("__type__").asText(), id, refSession, node.path("python_module").asText(""),
                node.path("type_name").asText(""), node.path("worker_id").asText(connection.executor().hello().workerId()),
                config.leakDetection() ? new Throwable("ref created here") : null);
    }
}
