package io.snakebridge.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.BridgeException;
import java.util.function.LongFunction;

/**
 * What the engine needs from the API's value and error types, which live in {@code io.snakebridge}
 * with their codec: a callback's arguments and result, and the exception for an error object.
 * Public: the connection facade implements it.
 */
public interface ApiCodec {
    /** A value of {@code message} as a plain Java value; refs in it become handles of this connection. */
    Object decode(JsonNode value, Message message);

    /** A Java value in its wire form. */
    Object encode(Object value);

    /**
     * The exception for a protocol error object (PROTOCOL.md ERR-*); {@code callbackThrown} finds
     * the Java exception a callback threw by the id Python was told (CB-3).
     */
    BridgeException error(JsonNode error, LongFunction<Throwable> callbackThrown);
}
