package io.snakebridge;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * An n-dimensional array as numpy has it: a {@link DType}, a shape, and the elements in C (row-major)
 * order. It travels as raw bytes next to the message (PROTOCOL.md ATT-*, VAL-ARRAY-*), and reaches
 * Python as a {@code numpy.ndarray} (or, without numpy, an {@code array.array} or a shaped
 * {@code memoryview}). Immutable; {@link #equals} compares dtype, shape and the exact bits, so NaNs
 * compare equal to themselves.
 *
 * <p>Plain Java arrays ({@code double[]}, {@code float[]}, {@code long[]}, {@code int[]},
 * {@code short[]}, {@code boolean[]}) passed as arguments travel as one-dimensional NDArrays.
 * {@code byte[]} stays Python {@code bytes}; use {@link #of(byte[], long...)} for an int8 array.
 */
public final class NDArray {

    /** The element types the protocol carries, by their numpy names. */
    public enum DType {
        /** numpy {@code bool}: one byte, 0 or 1. */
        BOOL(1),
        /** numpy {@code int8}. */
        INT8(1),
        /** numpy {@code uint8}. */
        UINT8(1),
        /** numpy {@code int16}. */
        INT16(2),
        /** numpy {@code uint16}. */
        UINT16(2),
        /** numpy {@code int32}. */
        INT32(4),
        /** numpy {@code uint32}. */
        UINT32(4),
        /** numpy {@code int64}. */
        INT64(8),
        /** numpy {@code uint64}: readable in Java only as bytes ({@link NDArray#data()}). */
        UINT64(8),
        /** numpy {@code float32}. */
        FLOAT32(4),
        /** numpy {@code float64}. */
        FLOAT64(8);

        private final int itemSize;

        DType(int itemSize) {
            this.itemSize = itemSize;
        }

        /**
         * The size of one element.
         *
         * @return bytes per element, 1 to 8
         */
        public int itemSize() {
            return itemSize;
        }

        /**
         * The numpy name, as the protocol carries it.
         *
         * @return e.g. {@code float64}
         */
        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static DType fromWire(String name) {
            for (DType type : values()) {
                if (type.wireName().equals(name)) {
                    return type;
                }
            }
            throw new IllegalArgumentException("unknown dtype '" + name + "'");
        }
    }

    private final DType dtype;
    private final long[] shape;
    private final byte[] data; // little-endian, C order; never exposed writable
    private final int size;

    private NDArray(DType dtype, long[] shape, byte[] data) {
        this.dtype = dtype;
        this.shape = shape.clone();
        long count = 1;
        for (long n : shape) {
            if (n < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative dimension");
            }
            count = Math.multiplyExact(count, n);
        }
        if (count * dtype.itemSize != data.length) {
            throw new IllegalArgumentException(dtype.wireName() + " array of shape " + Arrays.toString(shape) + " needs "
                    + count * dtype.itemSize + " bytes of data, got " + data.length);
        }
        this.data = data;
        this.size = (int) count;
    }

    /**
     * An array of {@code dtype} and {@code shape} over {@code littleEndianData} (C order), which it
     * takes over: for unsigned types and data already in wire form.
     *
     * @param dtype the element type
     * @param shape the length of each dimension (copied)
     * @param littleEndianData the elements in C order, little-endian; not copied, so do not change it afterwards
     * @return the array
     * @throws IllegalArgumentException if a dimension is negative or the data is not exactly
     *         product(shape) × {@link DType#itemSize()} bytes long
     */
    public static NDArray ofBytes(DType dtype, long[] shape, byte[] littleEndianData) {
        return new NDArray(dtype, shape, littleEndianData);
    }

    /**
     * A float64 array.
     *
     * @param values the elements in C order (copied)
     * @param shape the length of each dimension; none for a one-dimensional array of all the values
     * @return the array
     * @throws IllegalArgumentException if a dimension is negative or the shape does not hold exactly the values given
     */
    public static NDArray of(double[] values, long... shape) {
        ByteBuffer buffer = allocate(values.length, DType.FLOAT64);
        buffer.asDoubleBuffer().put(values);
        return new NDArray(DType.FLOAT64, shapeOr(shape, values.length), buffer.array());
    }

    /**
     * A float32 array.
     *
     * @param values the elements in C order (copied)
     * @param shape the length of each dimension; none for a one-dimensional array of all the values
     * @return the array
     * @throws IllegalArgumentException if a dimension is negative or the shape does not hold exactly the values given
     */
    public static NDArray of(float[] values, long... shape) {
        ByteBuffer buffer = allocate(values.length, DType.FLOAT32);
        buffer.asFloatBuffer().put(values);
        return new NDArray(DType.FLOAT32, shapeOr(shape, values.length), buffer.array());
    }

    /**
     * An int64 array.
     *
     * @param values the elements in C order (copied)
     * @param shape the length of each dimension; none for a one-dimensional array of all the values
     * @return the array
     * @throws IllegalArgumentException if a dimension is negative or the shape does not hold exactly the values given
     */
    public static NDArray of(long[] values, long... shape) {
        ByteBuffer buffer = allocate(values.length, DType.INT64);
        buffer.asLongBuffer().put(values);
        return new NDArray(DType.INT64, shapeOr(shape, values.length), buffer.array());
    }

    /**
     * An int32 array.
     *
     * @param values the elements in C order (copied)
     * @param shape the length of each dimension; none for a one-dimensional array of all the values
     * @return the array
     * @throws IllegalArgumentException if a dimension is negative or the shape does not hold exactly the values given
     */
    public static NDArray of(int[] values, long... shape) {
        ByteBuffer buffer = allocate(values.length, DType.INT32);
        buffer.asIntBuffer().put(values);
        return new NDArray(DType.INT32, shapeOr(shape, values.length), buffer.array());
    }

    /**
     * An int16 array.
     *
     * @param values the elements in C order (copied)
     * @param shape the length of each dimension; none for a one-dimensional array of all the values
     * @return the array
     * @throws IllegalArgumentException if a dimension is negative or the shape does not hold exactly the values given
     */
    public static NDArray of(short[] values, long... shape) {
        ByteBuffer buffer = allocate(values.length, DType.INT16);
        buffer.asShortBuffer().put(values);
        return new NDArray(DType.INT16, shapeOr(shape, values.length), buffer.array());
    }

    /**
     * An int8 array (a plain {@code byte[]} argument is Python {@code bytes} instead).
     *
     * @param values the elements in C order (copied)
     * @param shape the length of each dimension; none for a one-dimensional array of all the values
     * @return the array
     * @throws IllegalArgumentException if a dimension is negative or the shape does not hold exactly the values given
     */
    public static NDArray of(byte[] values, long... shape) {
        return new NDArray(DType.INT8, shapeOr(shape, values.length), values.clone());
    }

    /**
     * A bool array.
     *
     * @param values the elements in C order (copied)
     * @param shape the length of each dimension; none for a one-dimensional array of all the values
     * @return the array
     * @throws IllegalArgumentException if a dimension is negative or the shape does not hold exactly the values given
     */
    public static NDArray of(boolean[] values, long... shape) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) (values[i] ? 1 : 0);
        }
        return new NDArray(DType.BOOL, shapeOr(shape, values.length), bytes);
    }

    /**
     * The element type.
     *
     * @return the dtype
     */
    public DType dtype() {
        return dtype;
    }

    /**
     * The length of each dimension.
     *
     * @return a copy of the shape; empty for a zero-dimensional (scalar) array
     */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * The number of elements.
     *
     * @return the product of the shape
     */
    public int size() {
        return size;
    }

    /**
     * The elements as bytes, for any dtype.
     *
     * @return a read-only little-endian buffer over the elements in C order
     */
    public ByteBuffer data() {
        return buffer().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The elements as doubles: float64 ones, or float32 ones widened exactly.
     *
     * @return a new array of {@link #size()} elements in C order
     * @throws ValueConversionException if the dtype is neither float64 nor float32 (SQLState 22018)
     */
    public double[] toDoubleArray() {
        double[] out = new double[size];
        if (dtype == DType.FLOAT64) {
            buffer().asDoubleBuffer().get(out);
        } else if (dtype == DType.FLOAT32) {
            ByteBuffer b = buffer();
            for (int i = 0; i < size; i++) {
                out[i] = b.getFloat(i * 4);
            }
        } else {
            throw cannotRead("double[]", "float64 or float32");
        }
        return out;
    }

    /**
     * The elements of a float32 array.
     *
     * @return a new array of {@link #size()} elements in C order
     * @throws ValueConversionException if the dtype is not float32 (SQLState 22018)
     */
    public float[] toFloatArray() {
        requireDType("float[]", DType.FLOAT32);
        float[] out = new float[size];
        buffer().asFloatBuffer().get(out);
        return out;
    }

    /**
     * The elements as longs: signed integers of any width, or unsigned ones up to 32 bits, widened exactly.
     *
     * @return a new array of {@link #size()} elements in C order
     * @throws ValueConversionException for another dtype, uint64 included (SQLState 22018)
     */
    public long[] toLongArray() {
        long[] out = new long[size];
        if (dtype == DType.INT64) {
            buffer().asLongBuffer().get(out);
            return out;
        }
        requireDType("long[]", DType.INT8, DType.UINT8, DType.INT16, DType.UINT16, DType.INT32, DType.UINT32);
        ByteBuffer b = buffer();
        for (int i = 0; i < size; i++) {
            out[i] = integer(b, i);
        }
        return out;
    }

    /**
     * The elements as ints: signed integers up to 32 bits, or unsigned ones up to 16, widened exactly.
     *
     * @return a new array of {@link #size()} elements in C order
     * @throws ValueConversionException for another dtype (SQLState 22018)
     */
    public int[] toIntArray() {
        int[] out = new int[size];
        if (dtype == DType.INT32) {
            buffer().asIntBuffer().get(out);
            return out;
        }
        requireDType("int[]", DType.INT8, DType.UINT8, DType.INT16, DType.UINT16);
        ByteBuffer b = buffer();
        for (int i = 0; i < size; i++) {
            out[i] = (int) integer(b, i);
        }
        return out;
    }

    /**
     * The elements as shorts: int16, int8 or uint8, widened exactly.
     *
     * @return a new array of {@link #size()} elements in C order
     * @throws ValueConversionException for another dtype (SQLState 22018)
     */
    public short[] toShortArray() {
        short[] out = new short[size];
        if (dtype == DType.INT16) {
            buffer().asShortBuffer().get(out);
            return out;
        }
        requireDType("short[]", DType.INT8, DType.UINT8);
        ByteBuffer b = buffer();
        for (int i = 0; i < size; i++) {
            out[i] = (short) integer(b, i);
        }
        return out;
    }

    /**
     * The elements of an int8 array (for a uint8 one, read {@link #data()} or {@link #toShortArray()}).
     *
     * @return a new array of {@link #size()} elements in C order
     * @throws ValueConversionException if the dtype is not int8 (SQLState 22018)
     */
    public byte[] toByteArray() {
        requireDType("byte[]", DType.INT8);
        return data.clone();
    }

    /**
     * The elements of a bool array.
     *
     * @return a new array of {@link #size()} elements in C order
     * @throws ValueConversionException if the dtype is not bool (SQLState 22018)
     */
    public boolean[] toBooleanArray() {
        requireDType("boolean[]", DType.BOOL);
        boolean[] out = new boolean[size];
        for (int i = 0; i < size; i++) {
            out[i] = data[i] != 0;
        }
        return out;
    }

    /** The wire bytes, shared: only the codec reads them. */
    byte[] wireData() {
        return data;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NDArray && ((NDArray) o).dtype == dtype && Arrays.equals(((NDArray) o).shape, shape)
                && Arrays.equals(((NDArray) o).data, data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "NDArray[" + dtype.wireName() + " (" + Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", "))
                + ")]";
    }

    private ByteBuffer buffer() {
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    }

    private long integer(ByteBuffer b, int i) {
        switch (dtype) {
            case INT8: return b.get(i);
            case UINT8: return b.get(i) & 0xffL;
            case INT16: return b.getShort(i * 2);
            case UINT16: return b.getShort(i * 2) & 0xffffL;
            case INT32: return b.getInt(i * 4);
            case UINT32: return b.getInt(i * 4) & 0xffffffffL;
            default: throw new AssertionError(dtype);
        }
    }

    private void requireDType(String javaType, DType... readable) {
        if (!Arrays.asList(readable).contains(dtype)) {
            throw cannotRead(javaType, Arrays.stream(readable).map(DType::wireName).collect(Collectors.joining(", ")));
        }
    }

    private ValueConversionException cannotRead(String javaType, String readable) {
        return new ValueConversionException("a " + dtype.wireName() + " array cannot be read as " + javaType + " without loss; "
                + javaType + " reads " + readable + " (convert in Python with .astype() first)");
    }

    private static ByteBuffer allocate(int count, DType dtype) {
        return ByteBuffer.allocate(Math.multiplyExact(count, dtype.itemSize)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static long[] shapeOr(long[] shape, int length) {
        return shape.length == 0 ? new long[] {length} : shape;
    }
}
