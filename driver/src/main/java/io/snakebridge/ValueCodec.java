package io.snakebridge;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Java values to and from SnakeBridge's tagged JSON (PROTOCOL.md VAL-*). Encoding produces plain
 * Maps/Lists for Jackson to write; decoding walks Jackson's tree.
 */
final class ValueCodec {
    static final String TYPE = "__type__";
    static final String SCHEMA = "__schema__";
    static final int SCHEMA_VERSION = 1;

    // Python keeps microseconds; a fixed 6-digit fraction and +HH:MM offsets parse on Python >= 3.10.
    private static final DateTimeFormatter DATE_TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS");
    private static final DateTimeFormatter OFFSET = DateTimeFormatter.ofPattern("xxx");

    private ValueCodec() {
    }

    // -- Java -> wire ---------------------------------------------------------------------------

    /** How the connection encodes what only it can: its refs and the Java callbacks it will answer. */
    interface Handles {
        Object ref(RefHandle handle);

        /** The callback tag for {@code function} with its arity (-1: any). */
        Object callback(Object function, int arity);

        /** Binary payloads of at least this many bytes travel as attachments (ATT-*); MAX_VALUE: never. */
        int attachmentMinBytes();

        /** The connection's caps (BridgeConfig maxNestingDepth, maxStringLength). */
        int maxNestingDepth();

        int maxStringLength();

        /** Throws unless the worker reads ndarray values (capability {@code arrays}). */
        void requireArrays();

        /** The promise tag for an earlier call of the batch being encoded (BATCH-2). */
        default Object promise(Promise promise) {
            throw new InvalidValueException("a Promise can only be passed to a later call of the batch that made it");
        }
    }

    /** What decoding needs from the message being read: its refs, its attachment frames, the caps. */
    interface Incoming {
        RefHandle ref(JsonNode node);

        byte[] attachment(int index);

        /** The longest str or bytes value the worker may send (VAL-LIM-3). */
        int maxStringLength();
    }

    /**
     * A binary payload that travels as its own frame after the message's JSON (PROTOCOL.md ATT-1).
     * Written as its index: the serializer collects the payloads, in order, into the list it was
     * given as the {@code Attachment.class} attribute.
     */
    static final class Attachment extends com.fasterxml.jackson.databind.JsonSerializable.Base {
        final byte[] data;

        Attachment(byte[] data) {
            this.data = data;
        }

        @Override
        @SuppressWarnings("unchecked")
        public void serialize(com.fasterxml.jackson.core.JsonGenerator gen, com.fasterxml.jackson.databind.SerializerProvider provider)
                throws java.io.IOException {
            List<byte[]> collected = (List<byte[]>) provider.getAttribute(Attachment.class);
            gen.writeNumber(collected.size());
            collected.add(data);
        }

        @Override
        public void serializeWithType(com.fasterxml.jackson.core.JsonGenerator gen, com.fasterxml.jackson.databind.SerializerProvider provider,
                com.fasterxml.jackson.databind.jsontype.TypeSerializer typeSer) throws java.io.IOException {
            serialize(gen, provider);
        }
    }

    /** Encodes an argument within the connection's caps. */
    static Object encode(Object value, Handles handles) {
        return encode(value, handles, handles.maxNestingDepth(), 0);
    }

    /** The arity of a Java value Python can call, or null if it is not one. */
    static Integer callbackArity(Object v) {
        if (v instanceof PyCallback) {
            return -1;
        }
        if (v instanceof java.util.function.BiFunction) {
            return 2;
        }
        if (v instanceof Function || v instanceof java.util.function.Consumer) {
            return 1;
        }
        if (v instanceof java.util.function.Supplier || v instanceof Runnable) {
            return 0;
        }
        return null;
    }

    private static Object encode(Object v, Handles refs, int maxDepth, int depth) {
        if (v instanceof String) {
            String s = (String) v;
            if (s.length() > refs.maxStringLength() && s.codePointCount(0, s.length()) > refs.maxStringLength()) {
                throw tooLong("a String", s.codePointCount(0, s.length()), refs.maxStringLength());
            }
            return v;
        }
        if (v == null || v instanceof Boolean || v instanceof Long) {
            return v;
        }
        if (v instanceof BigInteger) {
            return checkDigits((BigInteger) v);
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isFinite(d)) {
                return d;
            }
            return tag("special_float", "value", Double.isNaN(d) ? "nan" : d > 0 ? "infinity" : "neg_infinity");
        }
        if (v instanceof RefHandle) {
            return refs.ref((RefHandle) v);
        }
        if (v instanceof Promise) {
            return refs.promise((Promise) v);
        }
        if (depth >= maxDepth) {
            throw new InvalidValueException("argument nests deeper than the protocol's max_nesting_depth=" + maxDepth);
        }
        int next = depth + 1;
        if (v instanceof PyTuple) {
            return tag("tuple", "elements", encodeAll((PyTuple) v, refs, maxDepth, next));
        }
        if (v instanceof PyFrozenSet) {
            return tag("frozenset", "elements", encodeAll((PyFrozenSet) v, refs, maxDepth, next));
        }
        if (v instanceof List) {
            return encodeAll((List<?>) v, refs, maxDepth, next);
        }
        if (v instanceof Set) {
            return tag("set", "elements", encodeAll((Set<?>) v, refs, maxDepth, next));
        }
        if (v instanceof Map) {
            return encodeMap((Map<?, ?>) v, refs, maxDepth, next);
        }
        if (v instanceof byte[]) {
            if (((byte[]) v).length > refs.maxStringLength()) {
                throw tooLong("a byte[]", ((byte[]) v).length, refs.maxStringLength());
            }
            return binary(tag("bytes", null, null), (byte[]) v, refs);
        }
        NDArray array = v instanceof NDArray ? (NDArray) v : primitiveArray(v);
        if (array != null) {
            refs.requireArrays();
            Map<String, Object> wire = tag("ndarray", "dtype", array.dtype().wireName());
            wire.put("shape", array.shape());
            return binary(wire, array.wireData(), refs);
        }
        if (v instanceof PyComplex) {
            PyComplex c = (PyComplex) v;
            Map<String, Object> wire = tag("complex", "real", encode(c.real(), refs, maxDepth, next));
            wire.put("imag", encode(c.imag(), refs, maxDepth, next));
            return wire;
        }
        if (v instanceof PyAtom) {
            return tag("atom", "value", ((PyAtom) v).value());
        }
        if (v == PyStopIteration.INSTANCE) {
            return tag("stop_iteration", null, null);
        }
        Object temporal = encodeTemporal(v);
        if (temporal != null) {
            return temporal;
        }
        Integer arity = callbackArity(v);
        if (arity != null) {
            return refs.callback(v, arity);
        }
        throw new InvalidValueException("cannot send a " + v.getClass().getName() + " to Python; supported: null, Boolean, "
                + "Integer/Long/BigInteger, Double/Float, String, byte[], double[]/float[]/long[]/int[]/short[]/boolean[], "
                + "NDArray (for several dimensions), List, PyTuple, Set, PyFrozenSet, Map, java.time dates and times, "
                + "PyComplex, PyAtom, RefHandle, PyCallback and java.util.function callables");
    }

    private static InvalidValueException tooLong(String what, long length, int limit) {
        return new InvalidValueException(what + " of length " + length + " exceeds maxStringLength=" + limit
                + " (BridgeConfig; the protocol's max_string_length)");
    }

    /**
     * Refuses an int longer than the protocol's max_int_digits from its bit length, before any
     * decimal conversion: writing a ten-million-digit BigInteger in decimal alone takes seconds.
     */
    private static BigInteger checkDigits(BigInteger v) {
        double digits = v.bitLength() * LOG10_2;
        if (digits > Defaults.MAX_INT_DIGITS + 1 || (digits > Defaults.MAX_INT_DIGITS - 1
                && v.abs().toString().length() > Defaults.MAX_INT_DIGITS)) {
            throw new InvalidValueException("an int of about " + (long) digits + " decimal digits exceeds the protocol's max_int_digits="
                    + Defaults.MAX_INT_DIGITS + "; pass it as a string or bytes and convert it in Python");
        }
        return v;
    }

    private static final double LOG10_2 = Math.log10(2);

    /** A one-dimensional primitive array as an NDArray, or null (byte[] is bytes, not an array). */
    private static NDArray primitiveArray(Object v) {
        if (v instanceof double[]) {
            return NDArray.of((double[]) v);
        }
        if (v instanceof float[]) {
            return NDArray.of((float[]) v);
        }
        if (v instanceof long[]) {
            return NDArray.of((long[]) v);
        }
        if (v instanceof int[]) {
            return NDArray.of((int[]) v);
        }
        if (v instanceof short[]) {
            return NDArray.of((short[]) v);
        }
        if (v instanceof boolean[]) {
            return NDArray.of((boolean[]) v);
        }
        return null;
    }

    private static Map<String, Object> binary(Map<String, Object> wire, byte[] data, Handles handles) {
        if (data.length >= handles.attachmentMinBytes()) {
            wire.put("attachment", new Attachment(data));
        } else {
            wire.put("data", Base64.getEncoder().encodeToString(data));
        }
        return wire;
    }

    private static List<Object> encodeAll(Collection<?> items, Handles refs, int maxDepth, int depth) {
        List<Object> out = new ArrayList<>(items.size());
        for (Object item : items) {
            out.add(encode(item, refs, maxDepth, depth));
        }
        return out;
    }

    private static Object encodeMap(Map<?, ?> map, Handles refs, int maxDepth, int depth) {
        boolean plain = !map.containsKey(TYPE);
        for (Object key : map.keySet()) {
            plain &= key instanceof String;
        }
        if (plain) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                out.put((String) encode(e.getKey(), refs, maxDepth, depth), encode(e.getValue(), refs, maxDepth, depth));
            }
            return out;
        }
        // Non-string keys, or a "__type__" key that must not pass for a tag.
        List<Object> pairs = new ArrayList<>(map.size());
        for (Map.Entry<?, ?> e : map.entrySet()) {
            pairs.add(Arrays.asList(encode(e.getKey(), refs, maxDepth, depth), encode(e.getValue(), refs, maxDepth, depth)));
        }
        return tag("dict", "pairs", pairs);
    }

    private static Object encodeTemporal(Object v) {
        if (v instanceof LocalDateTime) {
            return tag("datetime", "value", micros(((LocalDateTime) v).getNano(), v) + DATE_TIME.format((LocalDateTime) v));
        }
        if (v instanceof OffsetDateTime) {
            OffsetDateTime t = (OffsetDateTime) v;
            return tag("datetime", "value", micros(t.getNano(), v) + DATE_TIME.format(t) + OFFSET.format(t));
        }
        if (v instanceof ZonedDateTime) {
            return encodeTemporal(((ZonedDateTime) v).toOffsetDateTime());
        }
        if (v instanceof Instant) {
            return encodeTemporal(((Instant) v).atOffset(ZoneOffset.UTC));
        }
        if (v instanceof LocalDate) {
            return tag("date", "value", v.toString());
        }
        if (v instanceof LocalTime) {
            return tag("time", "value", micros(((LocalTime) v).getNano(), v) + TIME.format((LocalTime) v));
        }
        if (v instanceof OffsetTime) {
            OffsetTime t = (OffsetTime) v;
            return tag("time", "value", micros(t.getNano(), v) + TIME.format(t) + OFFSET.format(t));
        }
        return null;
    }

    /** Python datetimes hold microseconds: refuse to drop nanoseconds silently. Returns "" to concatenate. */
    private static String micros(int nanos, Object value) {
        if (nanos % 1000 != 0) {
            throw new InvalidValueException(value + " has nanoseconds; Python keeps microseconds. Truncate it first, "
                    + "e.g. with truncatedTo(ChronoUnit.MICROS)");
        }
        return "";
    }

    static Map<String, Object> tag(String name, String field, Object value) {
        Map<String, Object> wire = new LinkedHashMap<>(4);
        wire.put(TYPE, name);
        wire.put(SCHEMA, SCHEMA_VERSION);
        if (field != null) {
            wire.put(field, value);
        }
        return wire;
    }

    // -- wire -> Java ---------------------------------------------------------------------------

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
