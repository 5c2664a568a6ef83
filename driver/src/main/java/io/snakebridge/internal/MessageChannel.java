package io.snakebridge.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.snakebridge.BridgeConfig;
import io.snakebridge.InvalidValueException;
import io.snakebridge.ProtocolException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Messages over frames: serialization, attachments (PROTOCOL.md ATT-*), the frame limits, and the
 * response caps (RESP-*, CLIENT-5). Not thread-safe: the request executor serializes its use.
 */
final class MessageChannel {
    /** One Jackson configuration per set of caps: building a mapper costs far more than a lookup. */
    private static final Map<List<Integer>, ObjectMapper> MAPPERS = new ConcurrentHashMap<>();
    /** The fields that tell which request a message answers, or which callback it asks for (MSG-2, CB-2, ATT-1). */
    private static final List<String> ROUTING = List.of("id", "op", "cid", "attachments");

    private final FrameChannel frames;
    private final ObjectMapper mapper;
    private final long maxResponseBytes;
    private final CountingNodeFactory values;
    /** Reads trees through {@link #values}: made once, as Jackson's readers are immutable and cheap to reuse. */
    private final ObjectReader counted;
    private int maxAttachments; // 0 until the worker's hello says otherwise
    private boolean lean; // the worker speaks the lean encoding (LEAN-*): set from its hello

    MessageChannel(Transport transport, BridgeConfig config, int maxIntDigits) {
        this.frames = new FrameChannel(transport.input(), transport.output(), config.maxFrameBytes());
        this.mapper = MAPPERS.computeIfAbsent(List.of(config.maxFrameBytes(), config.maxNestingDepth(), maxIntDigits),
                caps -> WireJson.mapper(caps.get(0), caps.get(1), caps.get(2)));
        this.maxResponseBytes = config.maxResponseBytes();
        this.values = new CountingNodeFactory(config.maxResponseElements());
        this.counted = mapper.reader().with(values);
    }

    void adopt(WorkerHello hello) {
        maxAttachments = hello.maxAttachments();
        lean = hello.has("lean");
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

    /** A frame already encoded (a lean request, LEAN-1), checked against the frame limit. */
    Outgoing raw(byte[] frame) {
        checkFrameSize(frame.length, "message");
        return new Outgoing(frame, List.of());
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

    /** Writes {@code message} without flushing: {@link #flush()} sends it, with any others appended meanwhile. */
    void append(Outgoing message) throws IOException {
        frames.append(message.json, message.attachments);
    }

    void flush() throws IOException {
        frames.flush();
    }

    /**
     * Reads the next message and its attachments. One past the response caps is read to its end
     * without being kept, so the stream stays in step, and comes back {@linkplain Message#refused
     * refused}: only the request it answers fails (CLIENT-5). Bytes are counted before each frame is
     * allocated, JSON values while the tree is built.
     */
    Message read() throws IOException {
        int length = frames.readLength();
        if (length > maxResponseBytes) {
            JsonNode routing;
            try (InputStream payload = frames.payloadStream(length)) { // closing it drops the rest of the frame
                PushbackInputStream in = new PushbackInputStream(payload, 1);
                int first = in.read();
                if (lean && first == (Lean.MAGIC & 0xFF)) {
                    routing = Lean.routing(in, mapper.getNodeFactory()); // a lean answer (LEAN-2): its id follows the magic
                } else {
                    if (first >= 0) {
                        in.unread(first);
                    }
                    routing = routingOf(in);
                }
            }
            return refused(routing, 0, tooManyBytes());
        }
        byte[] json = frames.readPayload(length);
        if (lean && Lean.isLean(json)) {
            return Lean.response(json, mapper.getNodeFactory());
        }
        JsonNode body;
        values.reset();
        try {
            body = counted.readTree(json);
        } catch (CountingNodeFactory.TooManyValues e) {
            return refused(routingOf(new ByteArrayInputStream(json)), 0, tooManyValues());
        }
        int count = attachmentCount(body);
        if (count == 0) {
            return new Message(body, List.of());
        }
        List<byte[]> attachments = new ArrayList<>(count);
        long bytes = length;
        for (int i = 0; i < count; i++) {
            int size = frames.readLength();
            bytes += size;
            if (bytes > maxResponseBytes) {
                frames.discard(size);
                return refused(body, i + 1, tooManyBytes());
            }
            attachments.add(frames.readPayload(size));
        }
        return new Message(body, attachments);
    }

    private int attachmentCount(JsonNode body) throws FrameChannel.FrameException {
        JsonNode count = body.get("attachments");
        if (count == null) {
            return 0;
        }
        if (!count.canConvertToInt() || count.intValue() < 0 || count.intValue() > maxAttachments) {
            throw new FrameChannel.FrameException("worker announced " + count + " attachments; max_attachments=" + maxAttachments);
        }
        return count.intValue();
    }

    /** Drops the attachment frames of a refused message from the {@code read}th on, and keeps only its routing fields. */
    private Message refused(JsonNode body, int read, String why) throws IOException {
        int count = attachmentCount(body);
        for (int i = read; i < count; i++) {
            frames.discard(frames.readLength());
        }
        ObjectNode routing = mapper.createObjectNode();
        ROUTING.forEach(field -> {
            if (body.has(field)) {
                routing.set(field, body.get(field));
            }
        });
        return Message.refused(routing, why);
    }

    /** The routing fields of a message's JSON, read as a stream: nothing else of it is built or kept. */
    private JsonNode routingOf(InputStream json) throws IOException {
        ObjectNode routing = mapper.createObjectNode();
        try (JsonParser parser = mapper.getFactory().createParser(json)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new ProtocolException("worker sent a message that is not a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                boolean routes = ROUTING.contains(parser.currentName());
                JsonToken value = parser.nextToken();
                if (routes && value == JsonToken.VALUE_NUMBER_INT) {
                    routing.put(parser.currentName(), parser.getLongValue());
                } else if (routes && value == JsonToken.VALUE_STRING) {
                    routing.put(parser.currentName(), parser.getText());
                } else {
                    parser.skipChildren(); // a routing field of the wrong type is left out: then no request matches it
                }
            }
        }
        return routing;
    }

    private String tooManyBytes() {
        return refusal("more than " + maxResponseBytes + " bytes (its JSON and binary values together)", "maxResponseBytes",
                maxResponseBytes);
    }

    private String tooManyValues() {
        return refusal("more than " + values.maxValues() + " JSON values", "maxResponseElements", values.maxValues());
    }

    private static String refusal(String what, String setting, long limit) {
        return "the worker's response holds " + what + ", past " + setting + "=" + limit + " (BridgeConfig); it was read "
                + "and dropped, and the connection goes on. Raise " + setting + " if the heap can hold it, or return numbers "
                + "in bulk as an array (callArray), keep the value in Python (callRef) and fetch it in parts, or stream it "
                + "(an iterator, read through a cursor)";
    }
}
