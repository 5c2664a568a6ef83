package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Arrays, binary attachments and object protocols against a real worker with numpy. */
class DataPlaneTest extends SharedWorkerTest {

    @Test
    void everyJavaArrayTypeRoundTripsThroughNumpyExactly() {
        double[] doubles = {0.1, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.MIN_VALUE, -1e308};
        assertThat(py.callArray("numpy.asarray", (Object) doubles).toDoubleArray()).isEqualTo(doubles);
        float[] floats = {1.5f, Float.NaN, -0.0f, Float.MAX_VALUE};
        assertThat(py.callArray("numpy.asarray", (Object) floats).toFloatArray()).isEqualTo(floats);
        long[] longs = {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE};
        assertThat(py.callArray("numpy.asarray", (Object) longs).toLongArray()).isEqualTo(longs);
        int[] ints = {Integer.MIN_VALUE, 7, Integer.MAX_VALUE};
        assertThat(py.callArray("numpy.asarray", (Object) ints).toIntArray()).isEqualTo(ints);
        short[] shorts = {Short.MIN_VALUE, 3, Short.MAX_VALUE};
        assertThat(py.callArray("numpy.asarray", (Object) shorts).toShortArray()).isEqualTo(shorts);
        boolean[] booleans = {true, false, true};
        assertThat(py.callArray("numpy.asarray", (Object) booleans).toBooleanArray()).isEqualTo(booleans);
        byte[] int8 = {Byte.MIN_VALUE, 0, Byte.MAX_VALUE};
        assertThat(py.callArray("numpy.asarray", NDArray.of(int8)).toByteArray()).isEqualTo(int8);
        assertThat(py.call("sb_fixtures.type_name", (Object) doubles).asString()).isEqualTo("ndarray");
    }

    @Test
    void byteArraysStayPythonBytesSmallInlineAndLargeAsAttachments() {
        byte[] small = {1, 2, 3};
        byte[] large = new byte[3 * 1024 * 1024];
        new Random(7).nextBytes(large);
        for (byte[] bytes : List.of(small, large)) {
            assertThat(py.call("sb_fixtures.type_name", (Object) bytes).asString()).isEqualTo("bytes");
            assertThat(py.call("sb_fixtures.echo", (Object) bytes).as(byte[].class)).isEqualTo(bytes);
        }
    }

    @Test
    void anNDArrayOfShape2x3x4WithNaNRoundTripsExactly() {
        double[] values = new double[24];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5;
        }
        values[13] = Double.NaN;
        NDArray sent = NDArray.of(values, 2, 3, 4);
        NDArray back = py.callArray("numpy.copy", sent);
        assertThat(back).isEqualTo(sent);
        assertThat(back.shape()).containsExactly(2, 3, 4);
        assertThat(py.call("getattr", sent, "shape").raw()).isEqualTo(PyTuple.of(2L, 3L, 4L));
    }

    @Test
    void numpyComputesOnArraysSentFromJava() {
        assertThat(py.call("numpy.linalg.norm", (Object) new double[] {3, 4}).asDouble()).isEqualTo(5.0);
        NDArray a = NDArray.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        NDArray b = NDArray.of(new double[] {7, 8, 9, 10, 11, 12}, 3, 2);
        NDArray product = py.callArray("numpy.matmul", a, b);
        assertThat(product.shape()).containsExactly(2, 2);
        assertThat(product.toDoubleArray()).containsExactly(58, 64, 139, 154);
    }

    @Test
    void aLargeArrayTravelsBothWaysBitExact() {
        double[] values = new Random(11).doubles(1 << 20).toArray(); // 8 MB: attachments both ways
        assertThat(py.callArray("numpy.negative", (Object) values).toDoubleArray())
                .isEqualTo(java.util.Arrays.stream(values).map(v -> -v).toArray());
    }

    @Test
    void aNumpyArrayStaysARefAndComesBackInOneRoundTrip() {
        try (PyValue value = py.call("numpy.arange", 6)) {
            assertThat(value.isRef()).isTrue();
            long before = py.requestsSent();
            assertThat(value.as(long[].class)).containsExactly(0, 1, 2, 3, 4, 5);
            assertThat(py.requestsSent() - before).isEqualTo(1);
            assertThat(value.asRef().toArray().dtype()).isEqualTo(NDArray.DType.INT64);
        }
    }

    @Test
    void stridedAndBigEndianArraysComeBackInCOrder() {
        NDArray array = py.callArray("sb_fixtures.strided_big_endian");
        assertThat(array.dtype()).isEqualTo(NDArray.DType.INT32);
        assertThat(array.shape()).containsExactly(4, 3);
        assertThat(array.toIntArray()).containsExactly(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22);
    }

    @Test
    void anUnsupportedDtypeIsAClearInvalidValueAndTheSessionGoesOn() {
        assertThatThrownBy(() -> py.callArray("sb_fixtures.complex_array"))
                .isInstanceOf(InvalidValueException.class)
                .hasMessageContaining("complex128 is not supported")
                .hasMessageContaining("float64");
        assertThat(py.call("math.sqrt", 4.0).asDouble()).isEqualTo(2.0);
    }

    @Test
    void readingAnArrayAsALossyJavaTypeIsRefused() {
        NDArray longs = py.callArray("numpy.arange", 3);
        assertThatThrownBy(longs::toDoubleArray)
                .isInstanceOf(ValueConversionException.class)
                .hasMessageContaining("int64 array cannot be read as double[]");
        assertThat(NDArray.ofBytes(NDArray.DType.UINT8, new long[] {2}, new byte[] {(byte) 255, 1}).toIntArray())
                .containsExactly(255, 1);
    }

    @Test
    void refsSpeakLenContainsItemAccessReprAndStr() {
        try (RefHandle table = py.callRef("eval", "{(1, 2): 'a', 'k': [1]}")) {
            assertThat(table.len()).isEqualTo(2);
            assertThat(table.contains("k")).isTrue();
            assertThat(table.contains(PyTuple.of(1L, 3L))).isFalse();
            assertThat(table.getItem(PyTuple.of(1L, 2L)).asString()).isEqualTo("a");
            table.setItem(PyTuple.of(1L, 2L), "b");
            assertThat(table.getItem(PyTuple.of(1L, 2L)).asString()).isEqualTo("b");
            table.delItem("k");
            assertThat(table.repr()).isEqualTo("{(1, 2): 'b'}");
            assertThat(table.str()).isEqualTo("{(1, 2): 'b'}");
            assertThat(table.value().asMap()).containsEntry(PyTuple.of(1L, 2L), "b");
            assertThatThrownBy(() -> table.getItem("missing"))
                    .isInstanceOfSatisfying(PythonException.class, e -> assertThat(e.pythonType()).isEqualTo("KeyError"));
        }
    }

    @Test
    void withContextEntersAndExitsAroundTheBody() {
        try (RefHandle recorder = py.callRef("sb_fixtures.Recorder")) {
            String seen = recorder.withContext(entered -> entered.asString());
            assertThat(seen).isEqualTo("entered");
            assertThat(recorder.getAttr("events").asList()).containsExactly("enter", "exit");
        }
    }

    @Test
    void withContextPassesTheJavaExceptionToExitAndRethrowsItUnlessSuppressed() {
        IllegalStateException boom = new IllegalStateException("boom");
        try (RefHandle recorder = py.callRef("sb_fixtures.Recorder", false)) {
            assertThatThrownBy(() -> recorder.withContext(entered -> {
                throw boom;
            })).isSameAs(boom);
            assertThat(recorder.getAttr("events").asList())
                    .containsExactly("enter", "exit CallbackError: java.lang.IllegalStateException: boom");
        }
        try (RefHandle suppressing = py.callRef("sb_fixtures.Recorder", true)) {
            Object result = suppressing.withContext(entered -> {
                throw boom;
            });
            assertThat(result).isNull();
        }
        assertThat(py.liveRefs()).isZero();
    }
}
