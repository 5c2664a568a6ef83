package io.snakebridge.conformance.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.snakebridge.conformance.Fixtures;
import io.snakebridge.conformance.ProtocolClient;
import io.snakebridge.conformance.Requirement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Section 6, driven by the language-neutral fixtures where a value can be written down. */
class ValueConformanceTest extends WorkerConformance {

    private void assertRoundTrip(Fixtures.Case c) {
        if (!c.expected().isNull()) {
            assertThat(ok(call(s1, "repr", c.wire())).asText()).as("repr in Python").isEqualTo(c.expected().asText());
        }
        JsonNode back = ok(call(s1, "copy.copy", c.wire()));
        assertThat(back).as("sent back unchanged").isEqualTo(c.wire());
    }

    static List<Fixtures.Case> intCases() {
        return Fixtures.roundTrip("VAL-INT-1");
    }

    static List<Fixtures.Case> floatCases() {
        return Fixtures.roundTrip("VAL-FLOAT-1");
    }

    static List<Fixtures.Case> plainDictCases() {
        return Fixtures.roundTrip("VAL-DICT-1");
    }

    static List<Fixtures.Case> pairsDictCases() {
        return Fixtures.roundTrip("VAL-DICT-2");
    }

    static List<Fixtures.Case> tagCases() {
        return Fixtures.roundTrip("VAL-TAG-1");
    }

    static List<Fixtures.Case> timeCases() {
        return Fixtures.roundTrip("VAL-TIME-1");
    }

    static List<Fixtures.Case> zonedCases() {
        return Fixtures.roundTrip("VAL-TIME-2");
    }

    static List<Fixtures.Case> timedeltaCases() {
        return Fixtures.roundTrip("VAL-TIME-3");
    }

    static List<Fixtures.Case> decimalCases() {
        return Fixtures.roundTrip("VAL-DEC-1");
    }

    static List<Fixtures.Case> invalidZonedCases() {
        return Fixtures.invalid("VAL-TIME-2");
    }

    static List<Fixtures.Case> invalidTimedeltaCases() {
        return Fixtures.invalid("VAL-TIME-3");
    }

    static List<Fixtures.Case> invalidDecimalCases() {
        return Fixtures.invalid("VAL-DEC-1");
    }

    static List<Fixtures.Case> invalidCases() {
        return Fixtures.invalid("VAL-TAG-2");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("intCases")
    @Tag("required")
    @Requirement("VAL-INT-1")
    void intsOfAnySizeTravelExactlyAndStayInts(Fixtures.Case c) {
        assertRoundTrip(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("floatCases")
    @Tag("required")
    @Requirement("VAL-FLOAT-1")
    void floatsRoundTripExactlyWithSpecialFloatsTagged(Fixtures.Case c) {
        assertRoundTrip(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("plainDictCases")
    @Tag("required")
    @Requirement("VAL-DICT-1")
    void anObjectWithoutTypeIsAlwaysAPlainDict(Fixtures.Case c) {
        assertRoundTrip(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairsDictCases")
    @Tag("required")
    @Requirement("VAL-DICT-2")
    void dictsWithNonStringOrTypeKeysTravelAsPairs(Fixtures.Case c) {
        assertRoundTrip(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tagCases")
    @Tag("required")
    @Requirement("VAL-TAG-1")
    void everyTagRoundTrips(Fixtures.Case c) {
        assertRoundTrip(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("timeCases")
    @Tag("required")
    @Requirement("VAL-TIME-1")
    void naiveAndAwareDatesAndTimesRoundTrip(Fixtures.Case c) {
        assertRoundTrip(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("zonedCases")
    @Tag("required")
    @Requirement("VAL-TIME-2")
    void aDatetimeInAnIanaZoneKeepsItsZoneAndItsFold(Fixtures.Case c) {
        assertRoundTrip(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidZonedCases")
    @Tag("required")
    @Requirement("VAL-TIME-2")
    void anUnknownZoneOrAZoneOnANaiveDatetimeIsInvalidValue(Fixtures.Case c) {
        assertInvalid(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("timedeltaCases")
    @Tag("required")
    @Requirement("VAL-TIME-3")
    void aTimedeltaTravelsNormalisedAsPythonHasIt(Fixtures.Case c) {
        assertRoundTrip(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidTimedeltaCases")
    @Tag("required")
    @Requirement("VAL-TIME-3")
    void aTimedeltaWithNonIntegerPartsOrOutOfRangeIsInvalidValue(Fixtures.Case c) {
        assertInvalid(c);
    }

    @Test
    @Tag("required")
    @Requirement("VAL-TIME-3")
    void aComputedTimedeltaArrivesNormalised() {
        JsonNode delta = ok(call(s1, "eval", "__import__('datetime').timedelta(hours=-1, microseconds=-1)"));
        assertThat(delta.path("__type__").asText()).isEqualTo("timedelta");
        assertThat(List.of(delta.path("days"), delta.path("seconds"), delta.path("microseconds")))
                .allSatisfy(part -> assertThat(part.isInt()).as("an integer part: %s", delta).isTrue())
                .extracting(JsonNode::asInt).containsExactly(-1, 82799, 999999);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decimalCases")
    @Tag("required")
    @Requirement("VAL-DEC-1")
    void aDecimalTravelsExactlyWithItsDigitsAndExponent(Fixtures.Case c) {
        assertRoundTrip(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidDecimalCases")
    @Tag("required")
    @Requirement("VAL-DEC-1")
    void aDecimalThatIsNotAFiniteNumberIsInvalidValue(Fixtures.Case c) {
        assertInvalid(c);
    }

    @Test
    @Tag("required")
    @Requirement("VAL-DEC-1")
    void aNonFiniteDecimalResultIsInvalidValueAndMakesNoRef() {
        error(call(s1, "decimal.Decimal", "NaN"), "invalid_value");
        error(call(s1, "eval", "[object(), __import__('decimal').Decimal('-Infinity')]"), "invalid_value");
        assertThat(liveRefs(s1)).isZero();
        assertThat(ok(call(s1, "decimal.Decimal", "2.50")).path("value").asText()).isEqualTo("2.50");
    }

    @Test
    @Tag("required")
    @Requirement("VAL-REF-3")
    void subclassesTravelAsTheirContentsAndEnumsByOneRule() {
        String classes = "__import__('enum').Enum('Flavor', {'SWEET': 'sweet'}, type=str)";
        assertThat(ok(call(s1, "eval", classes + ".SWEET")).asText()).isEqualTo("sweet");
        assertThat(ok(call(s1, "eval", "__import__('enum').IntEnum('Status', {'OK': 200}).OK")).asLong()).isEqualTo(200);
        assertThat(ok(call(s1, "eval", "type('Shout', (str,), {'__str__': lambda s: 'LOUD'})('quiet')")).asText())
                .isEqualTo("quiet");
        assertThat(ok(call(s1, "eval", "type('Odd', (int,), {'__int__': lambda s: 0, '__index__': lambda s: 0})(7)")).asLong())
                .isEqualTo(7);
        assertThat(ok(call(s1, "eval", "type('F', (float,), {'__float__': lambda s: 0.0})(2.5)")).asDouble()).isEqualTo(2.5);
        assertThat(ok(call(s1, "eval", "__import__('enum').Enum('Color', {'RED': 1}).RED")).path("__type__").asText())
                .isEqualTo("ref");
        assertThat(ok(call(s1, "eval", "__import__('collections').Counter('aab')")).toString()).isEqualTo("{\"a\":2,\"b\":1}");
        JsonNode point = ok(call(s1, "eval", "__import__('collections').namedtuple('P', 'x y')(1, 2)"));
        assertThat(point.path("__type__").asText()).isEqualTo("tuple");
    }

    private void assertInvalid(Fixtures.Case c) {
        error(call(s1, "repr", c.wire()), c.expected().asText());
        assertThat(ok(worker.request("ping", Map.of())).asText()).isEqualTo("pong");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidCases")
    @Tag("required")
    @Requirement("VAL-TAG-2")
    void malformedTaggedValuesAreInvalidValueAndServingGoesOn(Fixtures.Case c) {
        error(call(s1, "repr", c.wire()), c.expected().asText());
        assertThat(ok(worker.request("ping", Map.of())).asText()).isEqualTo("pong");
    }

    @Test
    @Tag("required")
    @Requirement("VAL-REF-1")
    void containersTravelByValueWithOnlyTheirUnsendableLeavesAsRefs() {
        JsonNode mixed = ok(call(s1, "eval", "{'n': 1, 'items': [2, object()], 'f': __import__('fractions').Fraction(1, 3)}"));
        assertThat(mixed.path("n").asInt()).isEqualTo(1);
        assertThat(mixed.path("items").get(0).asInt()).isEqualTo(2);
        assertThat(mixed.path("items").get(1).path("__type__").asText()).isEqualTo("ref");
        assertThat(mixed.path("f").path("type_name").asText()).isEqualTo("Fraction");
        JsonNode generator = ok(call(s1, "eval", "(i for i in range(3))"));
        assertThat(generator.path("__type__").asText()).isEqualTo("stream_ref");
        assertThat(generator.path("stream_type").asText()).isEqualTo("generator");
        assertThat(ok(call(s1, "eval", "__import__('collections').OrderedDict(a=1)")).toString()).isEqualTo("{\"a\":1}");
    }

    @Test
    @Tag("required")
    @Requirement("VAL-REF-2")
    void oneObjectIsOneRefPerResultAndEveryResultMakesFreshRefs() {
        JsonNode pair = ok(call(s1, "eval", "(lambda o: [o, o])(object())"));
        assertThat(pair.get(0).path("id")).isEqualTo(pair.get(1).path("id"));
        assertThat(liveRefs(s1)).isEqualTo(1);
        JsonNode first = ok(call(s1, "eval", "__import__('sys')"));
        JsonNode second = ok(call(s1, "eval", "__import__('sys')"));
        assertThat(first.path("id")).isNotEqualTo(second.path("id"));
    }

    @Test
    @Tag("required")
    @Requirement("VAL-LIM-1")
    void valuesNestedPastTheLimitOrContainingThemselvesAreInvalidValue() {
        int depth = worker.hello().path("limits").path("max_nesting_depth").asInt();
        Object deep = List.of();
        for (int i = 0; i < depth + 1; i++) {
            deep = List.of(deep);
        }
        error(call(s1, "len", deep), "invalid_value");
        error(call(s1, "eval", "(lambda l: (l.append(l), l)[1])([])"), "invalid_value");
        assertThat(ok(worker.request("ping", Map.of())).asText()).isEqualTo("pong");
    }

    @Test
    @Tag("required")
    @Requirement("VAL-LIM-2")
    void aResultThatCannotBeWrittenIsInvalidValueAndItsRefsAreDropped() {
        error(call(s1, "eval", "[object(), '\\udc80']"), "invalid_value");
        assertThat(liveRefs(s1)).isZero();
        List<Object> ok = new ArrayList<>(List.of("fine"));
        assertThat(ok(call(s1, "list", ok)).get(0).asText()).isEqualTo("fine");
    }

    @Test
    @Tag("required")
    @Requirement("VAL-LIM-3")
    void stringsAndBytesPastMaxStringLengthAreInvalidValueBothWays() {
        try (ProtocolClient fresh = ProtocolClient.start()) {
            ok(handshakeWithLimits(fresh, fields("max_string_length", 50)));
            JsonNode sent = error(fresh.request("call", s1, fields("function", "len", "args", List.of("x".repeat(51)))), "invalid_value");
            assertThat(sent.path("message").asText()).contains("max_string_length");
            error(fresh.request("call", s1, fields("function", "len", "args", List.of(
                    fields("__type__", "bytes", "__schema__", 1, "data", java.util.Base64.getEncoder().encodeToString(new byte[51]))))),
                    "invalid_value");
            error(fresh.request("call", s1, fields("function", "eval", "args", List.of("'z' * 51"))), "invalid_value");
            error(fresh.request("call", s1, fields("function", "eval", "args", List.of("bytes(51)"))), "invalid_value");
            assertThat(ok(fresh.request("call", s1, fields("function", "len", "args", List.of("x".repeat(50))))).asInt()).isEqualTo(50);
        }
    }
}
