package io.snakebridge;

import io.snakebridge.internal.Attachment;
import io.snakebridge.internal.Request;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * Java values to SnakeBridge's tagged JSON (PROTOCOL.md VAL-*): plain Maps and Lists for Jackson to
 * write. {@link ValueDecoder} reads them back.
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

        /** The callback tag of an exported callback of this connection (CB-6). */
        Object exported(ExportedCallback callback);

        /** The promise tag for an earlier call of the batch being encoded (BATCH-2). */
        default Object promise(Promise promise) {
            throw new InvalidValueException("a Promise can only be passed to a later call of the batch that made it");
        }
    }

    /** A call of a function by dotted name, its arguments encoded with {@code handles}. */
    static Request call(String function, List<?> args, Map<String, ?> kwargs, Request.Want want, Handles handles) {
        return Request.call(function, encode(args, handles), kwargs.isEmpty() ? null : encode(kwargs, handles), want);
    }

    /** A call of a method of {@code target} (a RefHandle, or a Promise in a batch). */
    static Request callMethod(Object target, String method, List<?> args, Map<String, ?> kwargs, Request.Want want,
            Handles handles) {
        return Request.callMethod(encode(target, handles), method, encode(args, handles),
                kwargs.isEmpty() ? null : encode(kwargs, handles), want);
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
        if (v instanceof ExportedCallback) {
            return refs.exported((ExportedCallback) v);
        }
        if (v instanceof PyValue) { // what the API returned goes back as it came
            return encode(((PyValue) v).raw(), refs, maxDepth, depth);
        }
        if (v instanceof Character) {
            return String.valueOf((char) (Character) v);
        }
        if (v instanceof Enum && v != PyStopIteration.INSTANCE) { // a Java enum constant is its name: Python has no twin of the type
            return ((Enum<?>) v).name();
        }
        if (v instanceof BigDecimal) {
            return tag("decimal", "value", v.toString());
        }
        if (v instanceof UUID) {
            return tag("uuid", "value", v.toString());
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
        if (v instanceof Object[]) {
            return encodeAll(Arrays.asList((Object[]) v), refs, maxDepth, next);
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
                + "NDArray (for several dimensions), List, Object[], PyTuple, Set, PyFrozenSet, Map, java.time dates, times "
                + "and Duration, BigDecimal, UUID, Character, enum constants, PyComplex, PyAtom, RefHandle, PyValue, "
                + "PyCallback and java.util.function callables");
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
            ZonedDateTime t = (ZonedDateTime) v;
            @SuppressWarnings("unchecked")
            Map<String, Object> wire = (Map<String, Object>) encodeTemporal(t.toOffsetDateTime());
            if (!(t.getZone() instanceof ZoneOffset)) { // a region keeps its id (PROTOCOL.md VAL-TIME-2)
                wire.put("zone", t.getZone().getId());
            }
            return wire;
        }
        if (v instanceof Duration) {
            Duration d = (Duration) v;
            micros(d.getNano(), v);
            Map<String, Object> wire = tag("timedelta", "days", Math.floorDiv(d.getSeconds(), 86_400L));
            wire.put("seconds", Math.floorMod(d.getSeconds(), 86_400L));
            wire.put("microseconds", d.getNano() / 1000);
            return wire;
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
}
