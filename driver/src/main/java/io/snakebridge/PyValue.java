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

    /** The decoded value as is. */
    public Object raw() {
        return raw;
    }

    public boolean isNone() {
        return raw == null;
    }

    public boolean isRef() {
        return raw instanceof RefHandle;
    }

    /** Every ref this value holds, at any depth. */
    public List<RefHandle> refs() {
        return refs;
    }

    public RefHandle asRef() {
        return as(RefHandle.class);
    }

    /** The Python int as a long; fails if it is not an int or does not fit. */
    public long asLong() {
        if (raw instanceof Long) {
            return (Long) raw;
        }
        if (raw instanceof BigInteger) {
            throw mismatch("a long (it needs " + ((BigInteger) raw).bitLength() + " bits; use asBigInteger())");
        }
        throw mismatch("an int");
    }

    /** A Python float, or an int as a double. */
    public double asDouble() {
        if (raw instanceof Double) {
            return (Double) raw;
        }
        if (raw instanceof Long || raw instanceof BigInteger) {
            return ((Number) raw).doubleValue();
        }
        throw mismatch("a float");
    }

    public String asString() {
        return as(String.class);
    }

    public boolean asBoolean() {
        return as(Boolean.class);
    }

    public BigInteger asBigInteger() {
        if (raw instanceof Long) {
            return BigInteger.valueOf((Long) raw);
        }
        return as(BigInteger.class);
    }

    /** A list or tuple. */
    @SuppressWarnings("unchecked")
    public List<Object> asList() {
        return as(List.class);
    }

    @SuppressWarnings("unchecked")
    public Map<Object, Object> asMap() {
        return as(Map.class);
    }

    /**
     * The value as {@code type}: the decoded classes above, their supertypes, and the conversions of
     * the typed accessors ({@code Long}/{@code long}, {@code Integer}/{@code int} when it fits,
     * {@code Double}/{@code double}, {@code BigInteger}).
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
