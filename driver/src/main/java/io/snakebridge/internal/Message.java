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

    Message(JsonNode body, List<byte[]> attachments) {
        this.body = body;
        this.attachments = attachments;
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
