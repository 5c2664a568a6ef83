package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.strings;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.snakebridge.internal.WireJson;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;
import org.quicktheories.generators.SourceDSL;

/**
 * Properties (QuickTheories): random Java values survive a real worker exactly, and whatever bytes or
 * JSON a worker sends, the driver's decoder gives a value or a clean protocol error, never another
 * exception. A failure prints its smallest input and "Seed was N"; {@code -DQT_SEED=N} replays it.
 */
class PropertyTest {
    private static WorkerConnection py;
    private static final ObjectMapper JSON = WireJson.mapper(Defaults.MAX_FRAME_BYTES, Defaults.MAX_NESTING_DEPTH, Defaults.MAX_INT_DIGITS);
    private static final List<String> TAGS = List.of("tuple", "set", "frozenset", "bytes", "ndarray", "complex", "datetime",
            "date", "time", "special_float", "dict", "atom", "ref", "stream_ref", "callback", "stop_iteration", "promise", "mystery");
    private static final List<String> FIELDS = List.of("elements", "pairs", "value", "data", "real", "imag", "dtype", "shape",
            "attachment", "id", "session_id", "index");
    private static final BigInteger PAST_LONG = BigInteger.valueOf(Long.MAX_VALUE).add(BigInteger.ONE);

    @BeforeAll
    static void start() {
        py = Workers.connect();
    }

    @AfterAll
    static void stop() {
        py.close();
    }

    // -- random values round trip ------------------------------------------------------------------

    @Test
    void randomValuesRoundTripThroughPythonExactly() {
        qt().withExamples(350).forAll(values(3)).checkAssert(value -> {
            try (PyValue back = py.call("sb_fixtures.echo", value)) {
                assertThat(back.raw()).isEqualTo(value);
            }
        });
    }

    @Test
    void randomBytesRoundTripThroughPythonExactly() {
        qt().withExamples(100).forAll(bytes()).checkAssert(
                bytes -> assertThat(py.call("sb_fixtures.echo", (Object) bytes).as(byte[].class)).isEqualTo(bytes));
    }

    @Test
    void randomDoubleArraysRoundTripThroughNumpyBitForBit() {
        qt().withExamples(100).forAll(doubleArrays()).checkAssert(values -> {
            double[] back = py.callArray("numpy.asarray", (Object) values).toDoubleArray();
            assertThat(rawBits(back)).isEqualTo(rawBits(values));
        });
    }

    /** Scalars, or containers of values nested up to {@code depth} deep. */
    private static Gen<Object> values(int depth) {
        Gen<Object> scalars = anyOf(
                Generate.constant((Object) null),
                booleans().all().map(b -> (Object) b),
                longs().map(l -> (Object) l),
                bigIntegersPastLong().map(b -> (Object) b),
                doubles().map(d -> (Object) d),
                text().map(s -> (Object) s));
        if (depth == 0) {
            return scalars;
        }
        Gen<Object> inner = values(depth - 1);
        Gen<Object> hashable = anyOf(longs().map(l -> (Object) l), text().map(s -> (Object) s));
        return anyOf(
                scalars,
                lists().of(inner).ofSizeBetween(0, 4).map(l -> (Object) l),
                lists().of(inner).ofSizeBetween(0, 4).map(l -> (Object) PyTuple.copyOf(l)),
                lists().of(hashable).ofSizeBetween(0, 4).map(l -> (Object) new LinkedHashSet<>(l)),
                lists().of(hashable).ofSizeBetween(0, 4).map(l -> (Object) PyFrozenSet.copyOf(l)),
                maps(text(), inner, 4).map(m -> (Object) m),
                maps(longs(), inner, 4).map(m -> (Object) m));
    }

    /** Ints just past a long and up to 100 bits, both signs: a smaller one would come back as a Long. */
    private static Gen<BigInteger> bigIntegersPastLong() {
        return SourceDSL.longs().between(0, Long.MAX_VALUE).zip(integers().between(0, 36), booleans().all(),
                (magnitude, shift, negative) -> {
                    BigInteger b = PAST_LONG.add(BigInteger.valueOf(magnitude).shiftLeft(shift));
                    return negative ? b.negate().subtract(BigInteger.ONE) : b;
                });
    }

    /** Unicode without lone surrogates (Python cannot encode those either): ASCII, the rest of the BMP, astral planes. */
    static Gen<String> text() {
        Gen<Integer> codePoints = anyOf(integers().between(0, 0x7F), integers().between(0x80, 0xD7FF),
                integers().between(0xE000, 0xFFFF), integers().between(0x10000, Character.MAX_CODE_POINT));
        return lists().of(codePoints).ofSizeBetween(0, 12)
                .map(cps -> new String(cps.stream().mapToInt(Integer::intValue).toArray(), 0, cps.size()));
    }

    /** Longs of every size, and small ones as often. */
    private static Gen<Long> longs() {
        return anyOf(SourceDSL.longs().between(-1000, 1000), SourceDSL.longs().all());
    }

    /** Doubles of every bit pattern but NaN, and now and then an infinity, -0.0 or a NaN (negative and signalling too). */
    private static Gen<Double> doubles() {
        return Generate.frequency(Pair.of(9, SourceDSL.doubles().any()), Pair.of(1, Generate.pick(List.of(
                Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, Double.NaN,
                Double.longBitsToDouble(0xfff8000000000000L), Double.longBitsToDouble(0x7ff0000000000001L)))));
    }

    private static Gen<byte[]> bytes() {
        return Generate.byteArrays(integers().between(0, 255), Generate.bytes(Byte.MIN_VALUE, Byte.MAX_VALUE, (byte) 0))
                .describedAs(Arrays::toString);
    }

    private static Gen<double[]> doubleArrays() {
        return lists().of(doubles()).ofSizeBetween(0, 255)
                .map(l -> l.stream().mapToDouble(Double::doubleValue).toArray())
                .describedAs(Arrays::toString);
    }

    /** Maps of up to {@code maxSize} entries in generated order; null values allowed (QuickTheories' maps refuse them). */
    private static Gen<Map<Object, Object>> maps(Gen<?> keys, Gen<Object> values, int maxSize) {
        return lists().of(keys.zip(values, Pair::<Object, Object>of)).ofSizeBetween(0, maxSize).map(entries -> {
            Map<Object, Object> map = new LinkedHashMap<>();
            entries.forEach(entry -> map.put(entry._1, entry._2));
            return map;
        });
    }

    /** One of the generators, each as likely; shrinks toward the first. */
    @SafeVarargs
    private static <T> Gen<T> anyOf(Gen<T>... choices) {
        return Generate.frequency(Arrays.stream(choices).map(choice -> Pair.of(1, choice)).collect(Collectors.toList()));
    }

    private static long[] rawBits(double[] values) {
        return Arrays.stream(values).mapToLong(Double::doubleToRawLongBits).toArray();
    }

    // -- whatever a worker sends, a value or a clean error -------------------------------------------

    // Random bytes from a worker go through a real connection: HostileWorkerTest.

    @Test
    void randomTaggedJsonFromAWorkerDecodesToAValueOrACleanError() {
        qt().withExamples(1200).forAll(taggedJson(3)).checkAssert(wire -> decodeOrCleanError(toJson(wire)));
    }

    /** Lists and tag-shaped objects (a known or unknown tag, random fields) nested {@code depth} deep, JSON leaves below. */
    private static Gen<Object> taggedJson(int depth) {
        Gen<Object> leaves = anyOf(Generate.constant((Object) null), integers().all().map(i -> (Object) i),
                strings().allPossible().ofLengthBetween(0, 6).map(s -> (Object) s), SourceDSL.doubles().any().map(d -> (Object) d));
        if (depth == 0) {
            return leaves;
        }
        Gen<Object> inner = taggedJson(depth - 1);
        Gen<Object> tagged = Generate.pick(TAGS).zip(maps(Generate.pick(FIELDS), inner, 3), (tag, fields) -> {
            fields.put("__type__", tag);
            fields.put("__schema__", 1);
            return (Object) fields;
        });
        return anyOf(lists().of(inner).ofSizeBetween(0, 3).map(l -> (Object) l), tagged);
    }

    private static byte[] toJson(Object wire) {
        try {
            return JSON.writeValueAsBytes(wire);
        } catch (JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    /** What the connection does with a frame: parse it, then decode it as a value. */
    private static void decodeOrCleanError(byte[] frame) {
        JsonNode node;
        try {
            node = JSON.readTree(frame);
        } catch (java.io.IOException e) {
            return; // not JSON: the connection reports ProtocolException and breaks (HostileWorkerTest)
        }
        if (node == null) {
            return;
        }
        try {
            ValueDecoder.decode(node, STRICT);
        } catch (ProtocolException | ValueConversionException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    /** Refs and attachments as the connection checks them, without a connection. */
    private static final ValueDecoder.Incoming STRICT = new ValueDecoder.Incoming() {
        @Override
        public RefHandle ref(JsonNode node) {
            throw new ProtocolException("no refs in this message: " + node);
        }

        @Override
        public byte[] attachment(int index) {
            throw new ProtocolException("no attachment " + index + " in this message");
        }

        @Override
        public int maxStringLength() {
            return Defaults.MAX_STRING_LENGTH;
        }
    };
}
