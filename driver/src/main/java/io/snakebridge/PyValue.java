package io.snakebridge;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * A result from Python, decoded to plain Java: {@code null}, Boolean, Long (BigInteger beyond
 * 64 bits), Double, String, byte[], List, {@link PyTuple}, Set, {@link PyFrozenSet}, Map,
 * java.time values (a {@code Duration} for a timedelta), BigDecimal, UUID, {@link PyComplex},
 * {@link NDArray} (asked for with {@code callArray}), or {@link RefHandle}s, nested as Python had
 * them. It can be passed back to Python as an argument as it is.
 * Closing it closes the refs it holds.
 */
public final class PyValue implements AutoCloseable {
    private final Object raw;
    private final List<RefHandle> refs;

    PyValue(Object raw, List<RefHandle> refs) {
        this.raw = raw;
        this.refs = refs;
    }

    /**
     * The decoded value as is.
     *
     * @return one of the types above, or null for None
     */
    public Object raw() {
        return raw;
    }

    /**
     * Whether Python returned None.
     *
     * @return true for None
     */
    public boolean isNone() {
        return raw == null;
    }

    /**
     * Whether the value itself is a ref (an object that stayed in Python).
     *
     * @return true if {@link #raw()} is a {@link RefHandle}
     */
    public boolean isRef() {
        return raw instanceof RefHandle;
    }

    /**
     * Every ref this value holds, at any depth: the ones {@link #close()} closes.
     *
     * @return the refs, possibly empty
     */
    public List<RefHandle> refs() {
        return refs;
    }

    /**
     * The value as a ref.
     *
     * @return the handle of the object that stayed in Python
     * @throws ValueConversionException if the value is not a ref (SQLState 22018)
     */
    public RefHandle asRef() {
        return as(RefHandle.class);
    }

    /**
     * The value as a long.
     *
     * @return the Python int
     * @throws ValueConversionException if the value is not an int, or needs more than 64 bits (SQLState 22018)
     */
    public long asLong() {
        if (raw instanceof Long) {
            return (Long) raw;
        }
        if (raw instanceof BigInteger) {
            throw mismatch("a long (it needs " + ((BigInteger) raw).bitLength() + " bits; use asBigInteger())");
        }
        throw mismatch("an int");
    }

    /**
     * The value as a double.
     *
     * @return the Python float, or the int converted to the nearest double (infinite past the double range)
     * @throws ValueConversionException if the value is neither a float nor an int (SQLState 22018)
     */
    public double asDouble() {
        if (raw instanceof Double) {
            return (Double) raw;
        }
        if (raw instanceof Long || raw instanceof BigInteger) {
            return ((Number) raw).doubleValue();
        }
        throw mismatch("a float");
    }

    /**
     * The value as a String.
     *
     * @return the Python str
     * @throws ValueConversionException if the value is not a str (SQLState 22018)
     */
    public String asString() {
        return as(String.class);
    }

    /**
     * The value as a boolean.
     *
     * @return the Python bool
     * @throws ValueConversionException if the value is not a bool (an int or None is not one; SQLState 22018)
     */
    public boolean asBoolean() {
        return as(Boolean.class);
    }

    /**
     * The value as a BigInteger, whatever its size.
     *
     * @return the Python int
     * @throws ValueConversionException if the value is not an int (SQLState 22018)
     */
    public BigInteger asBigInteger() {
        if (raw instanceof Long) {
            return BigInteger.valueOf((Long) raw);
        }
        return as(BigInteger.class);
    }

    /**
     * The value as a list.
     *
     * @return the Python list, or tuple (a {@link PyTuple})
     * @throws ValueConversionException if the value is neither (SQLState 22018)
     */
    @SuppressWarnings("unchecked")
    public List<Object> asList() {
        return as(List.class);
    }

    /**
     * The value as a map.
     *
     * @return the Python dict, in its order
     * @throws ValueConversionException if the value is not a dict (SQLState 22018)
     */
    @SuppressWarnings("unchecked")
    public Map<Object, Object> asMap() {
        return as(Map.class);
    }

    /**
     * A list or tuple with each element converted as {@link #as(Class)} converts a value:
     * {@code asList(Integer.class)} for a list of Python ints, which decode to {@code Long}.
     *
     * @param <T> the elements' Java type
     * @param elementType the Java type of every element
     * @return a new unmodifiable list, in Python's order
     * @throws ValueConversionException (22018) if this is not a list or tuple, or an element does not convert
     */
    public <T> List<T> asList(Class<T> elementType) {
        List<Object> list = asList();
        List<T> out = new java.util.ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            out.add(convert(list.get(i), elementType, "element " + i));
        }
        return java.util.Collections.unmodifiableList(out);
    }

    /**
     * A dict with its keys and values converted as {@link #as(Class)} converts a value. Python ints
     * decode to {@code Long}, so {@code asMap().get(0)} (an {@code Integer}) misses;
     * {@code asMap(Integer.class, Double.class).get(0)} finds it.
     *
     * @param <K> the keys' Java type
     * @param <V> the values' Java type
     * @param keyType the Java type of every key
     * @param valueType the Java type of every value
     * @return a new unmodifiable map, in Python's order
     * @throws ValueConversionException (22018) if this is not a dict, a key or value does not convert, or two
     *     keys convert to the same Java key
     */
    public <K, V> Map<K, V> asMap(Class<K> keyType, Class<V> valueType) {
        Map<K, V> out = new java.util.LinkedHashMap<>();
        for (Map.Entry<Object, Object> e : asMap().entrySet()) {
            K key = convert(e.getKey(), keyType, "a key");
            if (out.containsKey(key)) {
                throw new ValueConversionException("two keys of the dict convert to the same " + keyType.getSimpleName() + " " + key);
            }
            out.put(key, convert(e.getValue(), valueType, "the value of key " + key));
        }
        return java.util.Collections.unmodifiableMap(out);
    }

    private static <T> T convert(Object item, Class<T> type, String what) {
        try {
            return new PyValue(item, List.of()).as(type);
        } catch (ValueConversionException e) {
            throw new ValueConversionException(what + ": " + e.getMessage());
        }
    }

    /**
     * The value as {@code type}: the decoded classes above, their supertypes, and the conversions of
     * the typed accessors ({@code Long}/{@code long}, {@code Integer}/{@code int} when it fits,
     * {@code Double}/{@code double}, {@code BigInteger}). An array result, or a ref to an array, also
     * reads as {@link NDArray} or as a primitive array its dtype converts to without loss (a ref's
     * data is fetched in one round trip).
     *
     * @param <T> the type asked for
     * @param type the class asked for, e.g. {@code String.class}, {@code int.class}, {@code double[].class}
     * @return the value as that type
     * @throws ValueConversionException if the value does not have that type, or does not convert
     *         without loss (SQLState 22018)
     */
    @SuppressWarnings("unchecked")
    public <T> T as(Class<T> type) {
        if (type == long.class || type == Long.class) {
            return (T) Long.valueOf(asLong());
        }
        if (type == int.class || type == Integer.class) {
            long value = asLong();
            if ((int) value != value) {
                throw mismatch("an int (" + value + " does not fit in 32 bits)");
            }
            return (T) Integer.valueOf((int) value);
        }
        if (type == double.class || type == Double.class) {
            return (T) Double.valueOf(asDouble());
        }
        if (type == boolean.class) {
            return (T) as(Boolean.class);
        }
        if (type == BigInteger.class && raw instanceof Long) {
            return (T) asBigInteger();
        }
        if (type.isInstance(raw)) {
            return type.cast(raw);
        }
        if (type == NDArray.class || (type.isArray() && type.getComponentType().isPrimitive())) {
            return (T) asArray(type);
        }
        throw mismatch("a " + type.getSimpleName());
    }

    /**
     * An array result, or a ref to one (a numpy array is a ref by default) fetched in one round
     * trip, as an NDArray or a primitive array its dtype converts to without loss.
     */
    private Object asArray(Class<?> type) {
        NDArray array;
        if (raw instanceof NDArray) {
            array = (NDArray) raw;
        } else if (raw instanceof RefHandle) {
            array = ((RefHandle) raw).toArray();
        } else {
            throw mismatch("an array (" + type.getSimpleName() + ")");
        }
        if (type == NDArray.class) {
            return array;
        }
        if (type == double[].class) {
            return array.toDoubleArray();
        }
        if (type == float[].class) {
            return array.toFloatArray();
        }
        if (type == long[].class) {
            return array.toLongArray();
        }
        if (type == int[].class) {
            return array.toIntArray();
        }
        if (type == short[].class) {
            return array.toShortArray();
        }
        if (type == byte[].class) {
            return array.toByteArray();
        }
        if (type == boolean[].class) {
            return array.toBooleanArray();
        }
        throw mismatch("a " + type.getSimpleName());
    }

    /** Closes every ref this value holds ({@link #refs()}). Closing a ref twice does nothing. */
    @Override
    public void close() {
        for (RefHandle ref : refs) {
            ref.close();
        }
    }

    @Override
    public String toString() {
        return "PyValue[" + (raw instanceof byte[] ? ((byte[]) raw).length + " bytes" : raw) + "]";
    }

    private ValueConversionException mismatch(String wanted) {
        return new ValueConversionException("Python returned " + pythonTypeOf(raw) + ", not " + wanted);
    }

    /** What Python had, in Python's words: a decoded value by its Python type, a ref by the type it holds. */
    private static String pythonTypeOf(Object raw) {
        if (raw == null) {
            return "None";
        }
        if (raw instanceof RefHandle) {
            RefHandle ref = (RefHandle) raw;
            String module = ref.pythonModule();
            String type = module.isEmpty() || "builtins".equals(module) ? ref.typeName() : module + "." + ref.typeName();
            return "a ref to a " + type + " (it stays in Python: use asRef(), or convert it there)";
        }
        for (Map.Entry<Class<?>, String> known : PYTHON_TYPES.entrySet()) {
            if (known.getKey().isInstance(raw)) {
                return known.getValue();
            }
        }
        return "a " + raw.getClass().getName();
    }

    /** The Python type each decoded Java class comes from (the first match wins: PyTuple before List). */
    private static final Map<Class<?>, String> PYTHON_TYPES = pythonTypes();

    private static Map<Class<?>, String> pythonTypes() {
        Map<Class<?>, String> types = new java.util.LinkedHashMap<>();
        types.put(Boolean.class, "a bool");
        types.put(Long.class, "an int");
        types.put(BigInteger.class, "an int");
        types.put(Double.class, "a float");
        types.put(String.class, "a str");
        types.put(byte[].class, "a bytes");
        types.put(PyTuple.class, "a tuple");
        types.put(List.class, "a list");
        types.put(PyFrozenSet.class, "a frozenset");
        types.put(java.util.Set.class, "a set");
        types.put(Map.class, "a dict");
        types.put(PyComplex.class, "a complex");
        types.put(PyAtom.class, "an atom");
        types.put(NDArray.class, "an array (ndarray)");
        types.put(java.math.BigDecimal.class, "a decimal.Decimal");
        types.put(java.util.UUID.class, "a uuid.UUID");
        types.put(java.time.Duration.class, "a datetime.timedelta");
        types.put(java.time.LocalDate.class, "a datetime.date");
        types.put(java.time.LocalTime.class, "a datetime.time");
        types.put(java.time.OffsetTime.class, "a datetime.time");
        types.put(java.time.temporal.Temporal.class, "a datetime.datetime");
        types.put(PyStopIteration.class, "the end of an iterator");
        return java.util.Collections.unmodifiableMap(types);
    }
}
