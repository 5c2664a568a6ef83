package io.snakebridge.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import java.io.IOException;
import java.util.List;

/**
 * A binary payload that travels as its own frame after the message's JSON (PROTOCOL.md ATT-1).
 * Written as its index: {@link MessageChannel} collects the payloads, in order, into the list it
 * gives the serializer as the {@code Attachment.class} attribute. Public: the value codec makes them.
 */
public final class Attachment extends JsonSerializable.Base {
    private final byte[] data;

    public Attachment(byte[] data) {
        this.data = data;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void serialize(JsonGenerator gen, SerializerProvider provider) throws IOException {
        List<byte[]> collected = (List<byte[]>) provider.getAttribute(Attachment.class);
        gen.writeNumber(collected.size());
        collected.add(data);
    }

    @Override
    public void serializeWithType(JsonGenerator gen, SerializerProvider provider, TypeSerializer typeSer) throws IOException {
        serialize(gen, provider);
    }
}
