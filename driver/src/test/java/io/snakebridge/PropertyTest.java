package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.snakebridge.internal.WireJson;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Properties (jqwik): random Java values survive a real worker exactly, and whatever bytes or JSON
 * a worker sends, the driver's decoder gives a value or a clean protocol error, never another
 * exception.
 */
class PropertyTest {
    private static WorkerConnection py;
    private static final ObjectMapper JSON = WireJson.mapper(Defaults.MAX_FRAME_BYTES, Defaults.MAX_NESTING_DEPTH, Defaults.MAX_INT_DIGITS);
    private static final List<String> TAGS = List.of("tuple", "set", "frozenset", "bytes", "ndarray", "complex", "datetime",
            "date", "time", "special_float", "dict", "atom", "ref", "stream_ref", "callback", "stop_iteration", "promise", "mystery");

    @BeforeContainer
    static void start() {
        py = Workers.connect();
    }

    @AfterContainer
    static void stop() {
        py.close();
    }

    // -- random values round trip ------------------------------------------------------------------

    @Property(tries = 300)
    void randomValuesRoundTripThroughPythonExactly(@ForAll("values") Object value) {
        try (PyValue back = py.call("sb_fixtures.echo", value)) {
            assertThat(back.raw()).isEqualTo(value);
        }
    }

    @Property(tries = 100)
    void randomBytesRoundTripThroughPythonExactly(@ForAll byte[] bytes) {
        assertThat(py.call("sb_fixtures.echo", (Object) bytes).as(byte[].class)).isEqualTo(bytes);
    }

    @Property(tries = 100)
    void randomDoubleArraysRoundTripThroughNumpyBitForBit(@ForAll double[] values) {
        assertThat(py.callArray("numpy.asarray", (Object) values).toDoubleArray()).isEqualTo(values);
    }

    @Provide
    Arbitrary<Object> values() {
        Arbitrary<Object> scalars = Arbitraries.oneOf(
                Arbitraries.just(null),
                Arbitraries.of(true, false),
                Arbitraries.longs(),
                Arbitraries.bigIntegers().between(BigInteger.TEN.pow(30).negate(), BigInteger.TEN.pow(30))
                        .filter(b -> b.bitLength() > 63),
                Arbitraries.doubles().withSpecialValue(Double.NaN).withSpecialValue(Double.POSITIVE_INFINITY)
                        .withSpecialValue(-0.0),
                text());
        return Arbitraries.recursive(() -> scalars, this::container, 3);
    }

    /** Unicode without lone surrogates (Python cannot encode those either), astral characters included. */
    private static Arbitrary<String> text() {
        Arbitrary<String> bmp = Arbitraries.strings().withCharRange('\u0000', '\uD7FF').withCharRange('\uE000', '\uFFFF').ofMaxLength(12);
        return Arbitraries.oneOf(bmp, bmp.map(s -> s + "\uD83D\uDE00")); // an emoji: a surrogate pair
    }

    private Arbitrary<Object> container(Arbitrary<Object> inner) {
        Arbitrary<Object> hashable = Arbitraries.oneOf(Arbitraries.longs(), text());
        return Arbitraries.oneOf(
                inner.list().ofMaxSize(4).map(l -> (Object) l),
                inner.list().ofMaxSize(4).map(l -> (Object) PyTuple.copyOf(l)),
                hashable.set().ofMaxSize(4).map(s -> (Object) new java.util.LinkedHashSet<>(s)),
                hashable.set().ofMaxSize(4).map(s -> (Object) PyFrozenSet.copyOf(s)),
                Arbitraries.maps(text(), inner).ofMaxSize(4).map(m -> (Object) new LinkedHashMap<>(m)),
                Arbitraries.maps(Arbitraries.longs(), inner).ofMaxSize(4).map(m -> (Object) new LinkedHashMap<>(m)));
    }

    // -- whatever a worker sends, a value or a clean error -------------------------------------------

    @Property(tries = 1000)
    void randomBytesFromAWorkerDecodeToAValueOrACleanError(@ForAll byte[] frame) {
        decodeOrCleanError(frame);
    }

    @Property(tries = 1000)
    void randomTaggedJsonFromAWorkerDecodesToAValueOrACleanError(@ForAll("taggedJson") Object wire) throws JsonProcessingException {
        decodeOrCleanError(JSON.writeValueAsBytes(wire));
    }

    @Provide
    Arbitrary<Object> taggedJson() {
        Arbitrary<Object> leaves = Arbitraries.oneOf(Arbitraries.just(null), Arbitraries.integers().map(i -> (Object) i),
                Arbitraries.strings().ofMaxLength(6).map(s -> (Object) s), Arbitraries.doubles().map(d -> (Object) d));
        return Arbitraries.recursive(() -> leaves, inner -> Arbitraries.oneOf(
                inner.list().ofMaxSize(3).map(l -> (Object) l),
                Arbitraries.of(TAGS).flatMap(tag -> Arbitraries.maps(
                        Arbitraries.of("elements", "pairs", "value", "data", "real", "imag", "dtype", "shape", "attachment", "id",
                                "session_id", "index"), inner).ofMaxSize(3).map(fields -> {
                                    Map<String, Object> tagged = new LinkedHashMap<>(fields);
                                    tagged.put("__type__", tag);
                                    tagged.put("__schema__", 1);
                                    return (Object) tagged;
                                }))), 3);
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
