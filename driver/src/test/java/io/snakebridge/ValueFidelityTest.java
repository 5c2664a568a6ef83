package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Values travel as what they are, and the errors about values say what Python had (issue #17's bugs). */
class ValueFidelityTest extends SharedWorkerTest {

    @Test
    void subclassesOfStrIntAndFloatTravelAsTheirContentsNotTheirDisplayText() {
        Map<Object, Object> values = py.call("sb_fixtures.subclassed_values").asMap();
        assertThat(values.get("flavor")).isEqualTo("sweet");
        assertThat(values.get("shouting")).isEqualTo("abc");
        assertThat(values.get("rounded")).isEqualTo(7L);
        assertThat(values.get("kelvin")).isEqualTo(2.5);
        assertThat(values.get("status")).isEqualTo(200L);
        assertThat(values.get("color")).as("an Enum that is not an int or str is a ref").isInstanceOf(RefHandle.class);
        ((RefHandle) values.get("color")).close();
    }

    @Test
    void aRecursionErrorOfUserCodeIsAPythonExceptionWithItsTraceback() {
        assertThatThrownBy(() -> py.call("sb_fixtures.recurse_forever"))
                .isInstanceOfSatisfying(PythonException.class, e -> {
                    assertThat(e.pythonType()).isEqualTo("RecursionError");
                    assertThat(e.traceback()).isNotEmpty();
                });
        assertThat(py.call("operator.add", 1, 2).asLong()).isEqualTo(3);
    }

    @Test
    void aPyValueTheApiReturnedCanBePassedBackAsAnArgument() {
        try (PyValue sqrt = py.getAttr("math.sqrt")) {
            assertThat(py.call("callable", sqrt).asBoolean()).isTrue();
            assertThat(py.call("sb_fixtures.apply", sqrt, 16.0).asDouble()).isEqualTo(4.0);
        }
        PyValue list = py.call("list", List.of(1, 2));
        assertThat(py.call("len", list).asLong()).isEqualTo(2);
    }

    @Test
    void aConversionErrorNamesThePythonTypeAndWhetherItIsARef() {
        try (PyValue fraction = py.call("fractions.Fraction", 1, 3)) {
            assertThatThrownBy(fraction::asString).isInstanceOf(ValueConversionException.class)
                    .hasMessageContaining("fractions.Fraction").hasMessageContaining("ref")
                    .hasMessageNotContaining("Ref,");
        }
        assertThatThrownBy(() -> py.call("float", 1.5).asString()).isInstanceOf(ValueConversionException.class)
                .hasMessage("Python returned a float, not a String");
        assertThatThrownBy(() -> py.call("dict").asList()).isInstanceOf(ValueConversionException.class)
                .hasMessage("Python returned a dict, not a List");
    }

    @Test
    void aLoneSurrogateResultIsRefusedWithAMessageThatNamesItAndDumpsNoFrame() {
        assertThatThrownBy(() -> py.call("chr", 0xD800)).isInstanceOfSatisfying(InvalidValueException.class, e -> {
            assertThat(e.getMessage()).contains("surrogate").contains("U+D800")
                    .doesNotContain("\"ok\"").doesNotContain("\"result\"").doesNotContain("\\ud800");
        });
        assertThat(py.liveRefs()).isZero();
    }
}
