package io.snakebridge.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.NumericNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.databind.node.ValueNode;
import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Jackson's node factory, counting the JSON values of the message being parsed (PROTOCOL.md RESP-2):
 * the parser makes one node per value through these methods, so past the cap it stops at once and
 * a frame of twenty million empty lists never becomes twenty million objects. Not thread-safe: its
 * channel parses one message at a time.
 */
final class CountingNodeFactory extends JsonNodeFactory {
    private static final long serialVersionUID = 1L;
    private final int maxValues;
    private int values;

    CountingNodeFactory(int maxValues) {
        this.maxValues = maxValues;
    }

    int maxValues() {
        return maxValues;
    }

    /** Starts counting the next message. */
    void reset() {
        values = 0;
    }

    private void count() {
        if (++values > maxValues) {
            throw TooManyValues.INSTANCE;
        }
    }

    /** The message holds more values than the cap; thrown through Jackson, caught by the channel. */
    static final class TooManyValues extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final TooManyValues INSTANCE = new TooManyValues();

        private TooManyValues() {
            super("more JSON values than the cap", null, false, false); // no stack trace: an answer, not a bug
        }
    }

    // Every method a parser makes a node with (a test holds each kind of JSON value to one count).

    @Override
    public ObjectNode objectNode() {
        count();
        return super.objectNode();
    }

    @Override
    public ArrayNode arrayNode() {
        count();
        return super.arrayNode();
    }

    @Override
    public ArrayNode arrayNode(int capacity) {
        count();
        return super.arrayNode(capacity);
    }

    @Override
    public TextNode textNode(String text) {
        count();
        return super.textNode(text);
    }

    @Override
    public BooleanNode booleanNode(boolean v) {
        count();
        return super.booleanNode(v);
    }

    @Override
    public NullNode nullNode() {
        count();
        return super.nullNode();
    }

    @Override
    public NumericNode numberNode(int v) {
        count();
        return super.numberNode(v);
    }

    @Override
    public NumericNode numberNode(long v) {
        count();
        return super.numberNode(v);
    }

    @Override
    public ValueNode numberNode(BigInteger v) {
        count();
        return super.numberNode(v);
    }

    @Override
    public NumericNode numberNode(float v) {
        count();
        return super.numberNode(v);
    }

    @Override
    public NumericNode numberNode(double v) {
        count();
        return super.numberNode(v);
    }

    @Override
    public ValueNode numberNode(BigDecimal v) {
        count();
        return super.numberNode(v);
    }
}
