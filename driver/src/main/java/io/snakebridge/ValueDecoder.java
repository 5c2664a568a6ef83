package io.snakebridge;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/** SnakeBridge's tagged JSON to Java values (PROTOCOL.md VAL-*): walks Jackson's tree of a response. */
final class ValueDecoder {
    private static final String TYPE = ValueCodec.TYPE;
    private static final String SCHEMA = ValueCodec.SCHEMA;
    private static final int SCHEMA_VERSION = ValueCodec.SCHEMA_VERSION;

    private ValueDecoder() {
    }

    /** What decoding needs from the message being read: its refs, its attachment frames, the caps. */
    interface Incoming {
        RefHandle ref(JsonNode node);

        byte[] attachment(int index);

        /** The longest str or bytes value the worker may send (VAL-LIM-3). */
        int maxStringLength();
    }

    /** Decodes a result; {@code refs} turns each wire ref into a handle and finds attachments. */
    static Object decode(JsonNode node, Incoming refs) {
        switch (node.getNodeType()) {
            case NULL:
                return null;
            case BOOLEAN:
                return node.booleanValue();
            case STRING:
                return checkedText(node.textValue(), refs);
            case NUMBER:
                if (node.isIntegralNumber()) {
                    return node.canConvertToLong() ? (Object) node.longValue() : node.bigIntegerValue();
                }
                return node.doubleValue();
            case ARRAY:
                List<Object> list = new ArrayList<>(node.size());
                for (JsonNode item : node) {
                    list.add(decode(item, refs));
                }
                return list;
            case OBJECT:
                JsonNode tag = node.get(TYPE);
                if (tag == null) {
                    Map<Object, Object> map = new LinkedHashMap<>();
                    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                        Map.Entry<String, JsonNode> e = it.next();
                        map.put(checkedText(e.getKey(), refs), decode(e.getValue(), refs));
                    }
                    return map;
                }
                return decodeTagged(tag.asText(), node, refs);
            default:
                throw new ProtocolException("unexpected JSON node " + node.getNodeType());
        }
    }

    /** A str from the worker, which must not be longer than the agreed cap (VAL-LIM-3). */
    private static String checkedText(String text, Incoming in) {
        if (text.length() > in.maxStringLength() && text.codePointCount(0, text.length()) > in.maxStringLength()) {
            throw new ProtocolException("worker sent a str longer than maxStringLength=" + in.maxStringLength());
        }
        return text;
    }

    private static Object decodeTagged(String tag, JsonNode node, Incoming refs) {
        if (node.path(SCHEMA).asInt(-1) != SCHEMA_VERSION) {
            throw new ProtocolException("tag " + tag + " has __schema__ " + node.get(SCHEMA) + "; this driver reads " + SCHEMA_VERSION);
        }
        try {
            switch (tag) {
                case "tuple":
                    return PyTuple.copyOf(decodeElements(node, refs));
                case "set":
                    return new LinkedHashSet<>(decodeElements(node, refs));
                case "frozenset":
                    return PyFrozenSet.copyOf(decodeElements(node, refs));
                case "dict":
                    Map<Object, Object> map = new LinkedHashMap<>();
                    for (JsonNode pair : required(node, "pairs")) {
                        map.put(decode(pair.get(0), refs), decode(pair.get(1), refs));
                    }
                    return map;
                case "bytes":
                    return bytesValue(node, refs);
                case "ndarray":
                    long[] shape = new long[required(node, "shape").size()];
                    for (int i = 0; i < shape.length; i++) {
                        shape[i] = node.get("shape").get(i).longValue();
                    }
                    return NDArray.ofBytes(NDArray.DType.fromWire(text(node, "dtype")), shape, binary(node, refs));
                case "complex":
                    return new PyComplex(number(decode(required(node, "real"), refs)), number(decode(required(node, "imag"), refs)));
                case "special_float":
                    return specialFloat(required(node, "value").asText());
                case "datetime":
                    return parseDateTime(text(node));
                case "date":
                    return LocalDate.parse(text(node));
                case "time":
                    return parseTime(text(node));
                case "atom":
                    return new PyAtom(text(node));
                case "stop_iteration":
                    return PyStopIteration.INSTANCE;
                case "ref":
                case "stream_ref":
                    return refs.ref(node);
                default:
                    throw new ProtocolException("unknown tag '" + tag + "' in a response");
            }
        } catch (IllegalArgumentException | ArithmeticException | DateTimeParseException | NullPointerException e) {
            throw new ProtocolException("malformed '" + tag + "' value in a response: " + e.getMessage(), e);
        }
    }

    private static byte[] binary(JsonNode node, Incoming in) {
        JsonNode attachment = node.get("attachment");
        if (attachment != null) {
            return in.attachment(attachment.intValue());
        }
        return Base64.getDecoder().decode(required(node, "data").textValue());
    }

    private static byte[] bytesValue(JsonNode node, Incoming in) {
        byte[] bytes = binary(node, in);
        if (bytes.length > in.maxStringLength()) {
            throw new ProtocolException("worker sent bytes longer than maxStringLength=" + in.maxStringLength());
        }
        return bytes;
    }

    private static List<Object> decodeElements(JsonNode node, Incoming refs) {
        JsonNode elements = required(node, "elements");
        List<Object> out = new ArrayList<>(elements.size());
        for (JsonNode e : elements) {
            out.add(decode(e, refs));
        }
        return out;
    }

    private static JsonNode required(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null) {
            throw new IllegalArgumentException("missing field '" + field + "'");
        }
        return value;
    }

    private static String text(JsonNode node) {
        return text(node, "value");
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = required(node, field);
        if (!value.isTextual()) {
            throw new IllegalArgumentException(field + " must be a string");
        }
        return value.textValue();
    }

    private static double number(Object decoded) {
        if (decoded instanceof Number) {
            return ((Number) decoded).doubleValue();
        }
        throw new IllegalArgumentException("complex parts must be numbers");
    }

    private static double specialFloat(String name) {
        switch (name) {
            case "nan": return Double.NaN;
            case "infinity": return Double.POSITIVE_INFINITY;
            case "neg_infinity": return Double.NEGATIVE_INFINITY;
            default: throw new IllegalArgumentException("unknown special_float " + name);
        }
    }

    private static Object parseDateTime(String text) {
        return DateTimeFormatter.ISO_DATE_TIME.parseBest(text, OffsetDateTime::from, LocalDateTime::from);
    }

    private static Object parseTime(String text) {
        return DateTimeFormatter.ISO_TIME.parseBest(text, OffsetTime::from, LocalTime::from);
    }
}
