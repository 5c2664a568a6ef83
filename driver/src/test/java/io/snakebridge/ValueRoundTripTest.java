package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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
    void decimalsTravelExactlyBothWays() {
        assertRoundTrip(new BigDecimal("1.50"), "Decimal");
        assertRoundTrip(new BigDecimal("1E+3"), "Decimal");
        assertRoundTrip(new BigDecimal("-12345678901234567890.123456789012345678901"), "Decimal");
        assertThat(py.call("decimal.Decimal", "0.1").raw()).isEqualTo(new BigDecimal("0.1"));
        assertThat(py.call("operator.add", new BigDecimal("0.1"), new BigDecimal("0.2")).raw()).isEqualTo(new BigDecimal("0.3"));
    }

    @Test
    void aDecimalNaNOrInfinityIsRefusedWithAClearError() {
        assertThatThrownBy(() -> py.call("decimal.Decimal", "NaN")).isInstanceOf(InvalidValueException.class)
                .hasMessageContaining("not finite").hasMessageContaining("ref");
        try (RefHandle nan = py.callRef("decimal.Decimal", "-Infinity")) {
            assertThat(nan.str()).isEqualTo("-Infinity");
        }
        assertThat(py.liveRefs()).isZero();
    }

    @Test
    void uuidsAndDurationsRoundTripExactly() {
        assertRoundTrip(UUID.fromString("12345678-1234-5678-9abc-def012345678"), "UUID");
        assertThat(py.call("uuid.UUID", "12345678123456789abcdef012345678").raw())
                .isEqualTo(UUID.fromString("12345678-1234-5678-9abc-def012345678"));
        assertRoundTrip(Duration.ofSeconds(90_061, 5_000), "timedelta");
        assertRoundTrip(Duration.ofDays(-3).plusNanos(1_000), "timedelta");
        assertRoundTrip(Duration.ZERO, "timedelta");
        assertThat(py.call("datetime.timedelta", List.of(), Map.of("hours", -1)).raw()).isEqualTo(Duration.ofHours(-1));
        assertThatThrownBy(() -> py.call("sb_fixtures.echo", Duration.ofNanos(1)))
                .isInstanceOf(InvalidValueException.class).hasMessageContaining("microseconds");
    }

    @Test
    void aZonedDateTimeKeepsItsZoneAndItsFold() {
        ZoneId paris = ZoneId.of("Europe/Paris");
        ZonedDateTime first = ZonedDateTime.ofLocal(LocalDateTime.of(2024, 10, 27, 2, 30), paris, ZoneOffset.ofHours(2));
        ZonedDateTime second = first.withLaterOffsetAtOverlap();
        assertThat(second.getOffset()).isEqualTo(ZoneOffset.ofHours(1));
        assertRoundTrip(first, "datetime");
        assertRoundTrip(second, "datetime");
        assertThat(py.call("getattr", first, "fold").asLong()).isZero();
        assertThat(py.call("getattr", second, "fold").asLong()).isEqualTo(1);
        try (PyValue zone = py.call("getattr", second, "tzinfo")) {
            assertThat(zone.asRef().str()).isEqualTo("Europe/Paris");
        }
        assertThat(py.call("sb_fixtures.echo", ZonedDateTime.of(2024, 1, 1, 0, 0, 0, 0, ZoneOffset.ofHours(3))).raw())
                .as("a fixed offset is an offset, not a zone").isEqualTo(OffsetDateTime.of(2024, 1, 1, 0, 0, 0, 0, ZoneOffset.ofHours(3)));
    }

    @Test
    void charactersArraysAndEnumsFromJavaArriveAsPythonHasThem() {
        assertThat(py.call("sb_fixtures.type_name", 'x').asString()).isEqualTo("str");
        assertThat(py.call("sb_fixtures.echo", 'x').raw()).isEqualTo("x");
        assertThat(py.call("sb_fixtures.echo", (Object) new Object[] {1, "a", new Object[] {2.5}}).raw())
                .isEqualTo(List.of(1L, "a", List.of(2.5)));
        assertThat(py.call("sb_fixtures.echo", TimeUnit.SECONDS).raw()).isEqualTo("SECONDS");
        assertRoundTrip(PyStopIteration.INSTANCE, "_StopIterationMarker");
    }

    @Test
    void intKeyedDictsAreReachableThroughTypedAccessors() {
        PyValue dict = py.call("dict", List.of(List.of(List.of(0, 1.5), List.of(1, 2))), Map.of());
        assertThat(dict.asMap().get(0)).as("an Integer key misses the decoded Long").isNull();
        Map<Integer, Double> typed = dict.asMap(Integer.class, Double.class);
        assertThat(typed.get(0)).isEqualTo(1.5);
        assertThat(typed.get(1)).isEqualTo(2.0);
        assertThat(py.call("list", List.of(List.of(1, 2, 3)), Map.of()).asList(Integer.class)).containsExactly(1, 2, 3);
        assertThatThrownBy(() -> py.call("sb_fixtures.echo", Map.of("k", "v")).asMap(String.class, Integer.class))
                .isInstanceOf(ValueConversionException.class).hasMessage("the value of key k: Python returned a str, not an int");
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
                .hasMessage("Python returned an int, not a String");
        assertThatThrownBy(() -> py.call("math.factorial", 30).asLong()).isInstanceOf(ValueConversionException.class)
                .hasMessageContaining("asBigInteger");
    }
}
