package io.snakebridge;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * A result from Python, decoded to plain Java: {@code null}, Boolean, Long (BigInteger beyond
 * 64 bits), Double, String, byte[], List, {@link PyTuple}, Set, {@link PyFrozenSet}, Map,
 * java.time values, {@link PyComplex}, {@link NDArray} (asked for with {@code callArray}), or
 * {@link RefHandle}s, nested as Python had them.
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
        String actual = raw == null ? "None" : raw.getClass().getSimpleName();
        return new ValueConversionException("Python returned " + actual + ", not " + wanted);
    }
}
