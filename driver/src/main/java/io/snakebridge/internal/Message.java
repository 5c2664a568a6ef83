package io.snakebridge.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.util.List;

/**
 * One message as read: its JSON and the attachment frames that follow it (PROTOCOL.md ATT-1).
 * Public: the connection facade decodes results from it.
 */
public final class Message {
    private final JsonNode body;
    private final List<byte[]> attachments;
    private final String refusal;

    Message(JsonNode body, List<byte[]> attachments) {
        this(body, attachments, null);
    }

    private Message(JsonNode body, List<byte[]> attachments, String refusal) {
        this.body = body;
        this.attachments = attachments;
        this.refusal = refusal;
    }

    /**
     * A message past a response cap, read to its end and dropped (PROTOCOL.md CLIENT-5): only its
     * routing fields are kept, to tell which request it answers, and {@code why}.
     */
    static Message refused(JsonNode routing, String why) {
        return new Message(routing, List.of(), why);
    }

    /** Why this message was dropped, or null for a message read whole. */
    String refusal() {
        return refusal;
    }

    public JsonNode body() {
        return body;
    }

    public List<byte[]> attachments() {
        return attachments;
    }

    /** The response's result, or JSON null when it has none. */
    public JsonNode result() {
        JsonNode result = body.get("result");
        return result == null ? NullNode.getInstance() : result;
    }

    /** A request from the worker (a callback, CB-2) rather than a response. */
    boolean isRequest() {
        return body.has("op");
    }
}
