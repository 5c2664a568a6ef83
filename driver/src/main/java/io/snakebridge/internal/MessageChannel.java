package io.snakebridge.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.snakebridge.InvalidValueException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Messages over frames: serialization, attachments (PROTOCOL.md ATT-*), and the frame limits.
 * Not thread-safe: the request executor serializes its use.
 */
final class MessageChannel {
    /** One Jackson configuration per set of caps: building a mapper costs far more than a lookup. */
    private static final Map<List<Integer>, ObjectMapper> MAPPERS = new ConcurrentHashMap<>();

    private final FrameChannel frames;
    private final ObjectMapper mapper;
    private int maxAttachments; // 0 until the worker's hello says otherwise

    MessageChannel(Transport transport, int maxFrameBytes, int maxNestingDepth, int maxIntDigits) {
        this.frames = new FrameChannel(transport.input(), transport.output(), maxFrameBytes);
        this.mapper = MAPPERS.computeIfAbsent(List.of(maxFrameBytes, maxNestingDepth, maxIntDigits),
                caps -> WireJson.mapper(caps.get(0), caps.get(1), caps.get(2)));
    }

    void adopt(WorkerHello hello) {
        maxAttachments = hello.maxAttachments();
    }

    ObjectMapper mapper() {
        return mapper;
    }

    /** An outgoing message, serialized and checked against the frame limits. */
    static final class Outgoing {
        final byte[] json;
        final List<byte[]> attachments;

        private Outgoing(byte[] json, List<byte[]> attachments) {
            this.json = json;
            this.attachments = attachments;
        }

        int bytes() {
            int n = json.length;
            for (byte[] attachment : attachments) {
                n += attachment.length;
            }
            return n;
        }
    }

    /**
     * The message as JSON plus its attachments. Checked against the frame limits here, before a
     * byte is written, so that an oversized argument is the caller's error and not a broken stream.
     */
    Outgoing serialize(Map<String, Object> message) {
        List<byte[]> attachments = new ArrayList<>(0);
        byte[] json;
        try {
            json = mapper.writer().withAttribute(Attachment.class, attachments).writeValueAsBytes(message);
        } catch (JsonProcessingException e) {
            throw new InvalidValueException("cannot write the message: " + e.getOriginalMessage());
        }
        if (!attachments.isEmpty()) {
            if (attachments.size() > maxAttachments) {
                throw new InvalidValueException("the message carries " + attachments.size() + " binary values; the worker "
                        + "accepts max_attachments=" + maxAttachments + " per message");
            }
            json = withAttachmentCount(json, attachments.size());
        }
        checkFrameSize(json.length, "message");
        for (byte[] attachment : attachments) {
            checkFrameSize(attachment.length, "binary value");
        }
        return new Outgoing(json, attachments);
    }

    private void checkFrameSize(int length, String what) {
        try {
            frames.checkSize(length, what);
        } catch (FrameChannel.FrameException e) {
            throw new InvalidValueException(e.getMessage() + " (BridgeConfig)");
        }
    }

    /** Adds {@code "attachments": n} to a serialized JSON object (it ends with '}'): no second serialization. */
    private static byte[] withAttachmentCount(byte[] json, int count) {
        byte[] field = (",\"attachments\":" + count + "}").getBytes(StandardCharsets.US_ASCII);
        byte[] out = Arrays.copyOf(json, json.length - 1 + field.length);
        System.arraycopy(field, 0, out, json.length - 1, field.length);
        return out;
    }

    void write(Outgoing message) throws IOException {
        frames.write(message.json, message.attachments);
    }

    /** Reads the next message and its attachments. */
    Message read() throws IOException {
        JsonNode body = mapper.readTree(frames.read());
        JsonNode count = body.get("attachments");
        if (count == null) {
            return new Message(body, List.of());
        }
        if (!count.canConvertToInt() || count.intValue() < 0 || count.intValue() > maxAttachments) {
            throw new FrameChannel.FrameException("worker announced " + count + " attachments; max_attachments=" + maxAttachments);
        }
        List<byte[]> attachments = new ArrayList<>(count.intValue());
        for (int i = 0; i < count.intValue(); i++) {
            attachments.add(frames.read());
        }
        return new Message(body, attachments);
    }
}
