package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ValueRoundTripTest extends SharedWorkerTest {

    /** The Java class each Python container decodes to (scalars decode to the class that was sent). */
    private static final Map<String, Class<?>> DECODED_AS = Map.of(
            "list", java.util.ArrayList.class, "set", LinkedHashSet.class, "dict", LinkedHashMap.class,
            "tuple", PyTuple.class, "frozenset", PyFrozenSet.class);

    private static Object echo(Object value) {
        return py.call("sb_fixtures.echo", value).raw();
    }

    private static void assertRoundTrip(Object value, String pythonType) {
        assertThat(py.call("sb_fixtures.type_name", value).asString()).as("Python type of %s", value).isEqualTo(pythonType);
        Object back = echo(value);
        assertThat(back).isEqualTo(value);
        if (value != null) {
            assertThat(back).isInstanceOf(DECODED_AS.getOrDefault(pythonType, value.getClass()));
        }
    }

    @Test
    void everyScalarTagRoundTripsExactly() {
        assertRoundTrip(null, "NoneType");
        assertRoundTrip(true, "bool");
        assertRoundTrip(42L, "int");
        assertRoundTrip(Long.MIN_VALUE, "int");
        assertRoundTrip(new BigInteger("265252859812191058636308480000000"), "int");
        assertRoundTrip(6.0, "float");
        assertRoundTrip(-0.0, "float");
        assertRoundTrip(Double.MIN_VALUE, "float");
        assertRoundTrip(Double.POSITIVE_INFINITY, "float");
        assertRoundTrip(Double.NEGATIVE_INFINITY, "float");
        assertRoundTrip("héllo ✓ \u0000 \uD83D\uDE00", "str");
        assertRoundTrip(new PyComplex(1.5, -2.0), "complex");
        assertRoundTrip(new PyAtom("ok"), "Atom");
        assertRoundTrip(PyStopIteration.INSTANCE, "_StopIterationMarker");
        assertThat((Double) echo(Double.NaN)).isNaN();
    }

    @Test
    void bytesRoundTripExactly() {
        byte[] data = new byte[256];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        assertThat(py.call("sb_fixtures.type_name", (Object) data).asString()).isEqualTo("bytes");
        assertThat(py.call("sb_fixtures.echo", (Object) data).as(byte[].class)).isEqualTo(data);
    }

    @Test
    void naiveAndAwareTemporalValuesRoundTrip() {
        assertRoundTrip(LocalDateTime.of(2024, 2, 29, 23, 59, 58, 123_456_000), "datetime");
        assertRoundTrip(LocalDateTime.of(2024, 1, 1, 0, 0), "datetime");
        assertRoundTrip(OffsetDateTime.of(2024, 1, 2, 3, 4, 5, 6_000, ZoneOffset.ofHoursMinutes(-5, -30)), "datetime");
        assertRoundTrip(OffsetDateTime.of(2024, 1, 2, 3, 4, 5, 0, ZoneOffset.UTC), "datetime");
        assertRoundTrip(LocalDate.of(1999, 12, 31), "date");
        assertRoundTrip(LocalTime.of(23, 59, 58, 999_999_000), "time");
        assertRoundTrip(OffsetTime.of(1, 2, 3, 0, ZoneOffset.ofHours(9)), "time");
        assertThat(py.call("sb_fixtures.describe", OffsetDateTime.now(ZoneOffset.UTC).withNano(0)).asList())
                .containsExactly("datetime", true);
    }

    @Test
    void nanosecondsAreRefusedRatherThanTruncated() {
        assertThatThrownBy(() -> py.call("sb_fixtures.echo", LocalTime.of(1, 2, 3, 1)))
                .isInstanceOf(InvalidValueException.class).hasMessageContaining("microseconds");
    }

    @Test
    void containersRoundTripWithTheirPythonTypes() {
        assertRoundTrip(Arrays.asList(1L, "a", null, List.of()), "list");
        assertRoundTrip(PyTuple.of(1L, "a"), "tuple");
        assertRoundTrip(new LinkedHashSet<>(List.of(1L, 2L)), "set");
        assertRoundTrip(PyFrozenSet.of("x", "y"), "frozenset");
        Map<Object, Object> stringKeys = new LinkedHashMap<>();
        stringKeys.put("a", List.of(1L, Map.of("b", PyTuple.of(2L, 3L))));
        assertRoundTrip(stringKeys, "dict");
        Map<Object, Object> otherKeys = new LinkedHashMap<>();
        otherKeys.put(1L, "int key");
        otherKeys.put(PyTuple.of(1L, 2L), "tuple key");
        otherKeys.put(null, "None key");
        assertRoundTrip(otherKeys, "dict");
    }

    @Test
    void aMapWithATypeKeyIsADictNotATag() {
        Map<Object, Object> sneaky = new LinkedHashMap<>();
        sneaky.put("__type__", "ref");
        sneaky.put("id", "abc");
        sneaky.put("session_id", py.sessionId());
        assertRoundTrip(sneaky, "dict");
    }

    @Test
    void pythonSeesTheTypesJavaSent() {
        Map<Object, Object> value = new LinkedHashMap<>();
        value.put(1L, Set.of(PyTuple.of(2.5)));
        assertThat(py.call("sb_fixtures.describe", value).raw())
                .isEqualTo(List.of("dict", List.of(List.of("int", List.of("set", List.of(List.of("tuple", List.of("float"))))))));
    }

    @Test
    void intsAndFloatsAreNeverMangledAtTheTopLevel() {
        assertThat(py.call("math.factorial", 30).asBigInteger()).isEqualTo(new BigInteger("265252859812191058636308480000000"));
        assertThat(py.call("operator.add", 3, 3).raw()).isEqualTo(6L);
        assertThat(py.call("float", 6).raw()).isEqualTo(6.0);
        assertThat(py.call("print").raw()).isNull();
        assertThat(py.call("math.factorial", 1000).asBigInteger().bitLength()).isGreaterThan(8000);
    }

    @Test
    void unsupportedJavaTypesAreAClearError() {
        assertThatThrownBy(() -> py.call("sb_fixtures.echo", new Object()))
                .isInstanceOf(InvalidValueException.class).hasMessageContaining("cannot send a java.lang.Object");
    }

    @Test
    void typedAccessorsConvertOrSayWhatPythonReturned() {
        PyValue three = py.call("len", List.of(1, 2, 3));
        assertThat(three.asLong()).isEqualTo(3);
        assertThat(three.as(Integer.class)).isEqualTo(3);
        assertThat(three.asDouble()).isEqualTo(3.0);
        assertThatThrownBy(three::asString).isInstanceOf(ValueConversionException.class)
                .hasMessage("Python returned Long, not a String");
        assertThatThrownBy(() -> py.call("math.factorial", 30).asLong()).isInstanceOf(ValueConversionException.class)
                .hasMessageContaining("asBigInteger");
    }
}
