package io.snakebridge;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;

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

    /** For values that carry no refs or attachments (an exception's attributes, ERR-3): either is a protocol error. */
    static final Incoming PLAIN = new Incoming() {
        @Override
        public RefHandle ref(JsonNode node) {
            throw new ProtocolException("a ref where only plain values may be");
        }

        @Override
        public byte[] attachment(int index) {
            throw new ProtocolException("an attachment where only plain values may be");
        }

        @Override
        public int maxStringLength() {
            return Integer.MAX_VALUE; // within a message the client already capped (CLIENT-5)
        }
    };

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
                    return dateTime(node);
                case "timedelta":
                    return Duration.ofDays(integer(node, "days")).plusSeconds(integer(node, "seconds"))
                            .plusNanos(Math.multiplyExact(integer(node, "microseconds"), 1000L));
                case "decimal":
                    return new BigDecimal(text(node));
                case "uuid":
                    return UUID.fromString(text(node));
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
        } catch (IllegalArgumentException | ArithmeticException | DateTimeException | NullPointerException e) {
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

    /** A datetime; with a {@code zone}, in that zone at the instant its offset names (PROTOCOL.md VAL-TIME-2). */
    private static Object dateTime(JsonNode node) {
        Object parsed = parseDateTime(text(node));
        JsonNode zone = node.get("zone");
        if (zone == null || zone.isNull()) {
            return parsed;
        }
        if (!zone.isTextual() || !(parsed instanceof OffsetDateTime)) {
            throw new IllegalArgumentException("zone must be a string, on a datetime with an offset");
        }
        return ((OffsetDateTime) parsed).atZoneSameInstant(ZoneId.of(zone.textValue()));
    }

    private static long integer(JsonNode node, String field) {
        JsonNode value = required(node, field);
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw new IllegalArgumentException(field + " must be an integer");
        }
        return value.longValue();
    }

    private static Object parseDateTime(String text) {
        return DateTimeFormatter.ISO_DATE_TIME.parseBest(text, OffsetDateTime::from, LocalDateTime::from);
    }

    private static Object parseTime(String text) {
        return DateTimeFormatter.ISO_TIME.parseBest(text, OffsetTime::from, LocalTime::from);
    }
}
