package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a user reaches for: calling a callable ref, an attribute as a ref, a cursor that owns what it made. */
class ConveniencesTest extends SharedWorkerTest {

    @Test
    void aCallableRefIsCalledDirectly() {
        try (RefHandle sqrt = py.getAttrRef("math.sqrt"); RefHandle counter = py.callRef("sb_fixtures.Counter")) {
            assertThat(sqrt.invoke(16.0).asDouble()).isEqualTo(4.0);
            try (RefHandle add = counter.getAttrRef("add")) {
                assertThat(add.invoke(List.of(), Map.of("n", 3)).asLong()).isEqualTo(3);
            }
        }
        try (RefHandle dictType = py.getAttrRef("dict")) {
            assertThat(dictType.invoke(List.of(), Map.of("a", 1)).asMap()).isEqualTo(Map.of("a", 1L));
        }
    }

    @Test
    void getAttrRefKeepsEvenAValueInPython() {
        int before = py.liveRefs();
        try (RefHandle pi = py.getAttrRef("math.pi")) {
            assertThat(pi.typeName()).isEqualTo("float");
            assertThat(pi.value().asDouble()).isEqualTo(Math.PI);
        }
        assertThat(py.liveRefs()).isEqualTo(before);
    }

    @Test
    void iterateOwnsTheIterableAndItsIteratorSoNothingIsLeftBehind() {
        int before = py.liveRefs();
        List<Object> items = new ArrayList<>();
        try (PyCursor cursor = py.iterate("list", 2, List.of(1, 2, 3, 4, 5))) {
            cursor.forEachRemaining(items::add);
        }
        assertThat(items).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(py.liveRefs()).as("the list and its iterator are both released").isEqualTo(before);
        try (PyCursor cursor = py.iterate("sb_fixtures.counting", 10, List.of(), Map.of("n", 3))) {
            assertThat(cursor.next()).isEqualTo(0L);
        }
        assertThat(py.liveRefs()).isEqualTo(before);
    }

    @Test
    void aPythonExceptionsPlainAttributesAreReachable() {
        assertThatThrownBy(() -> py.call("sb_fixtures.raise_quota")).isInstanceOfSatisfying(PythonException.class, e -> {
            assertThat(e.pythonType()).isEqualTo("sb_fixtures.QuotaExceeded");
            assertThat(e.attributes()).containsEntry("limit", 10L).containsEntry("used", 12.5)
                    .containsEntry("args", List.of("quota 10 exceeded: 12.5 used")).doesNotContainKey("owner");
        });
        assertThatThrownBy(() -> py.call("open", "/nonexistent-snakebridge-dir/f")).isInstanceOfSatisfying(PythonException.class,
                e -> assertThat(e.attributes()).containsEntry("errno", 2L).containsEntry("filename", "/nonexistent-snakebridge-dir/f"));
    }

    @Test
    void anExceptionGroupsMembersAreReachable() {
        assertThatThrownBy(() -> py.call("sb_fixtures.raise_group")).isInstanceOfSatisfying(PythonException.class, e -> {
            assertThat(e.pythonType()).isEqualTo("ExceptionGroup");
            assertThat(e.exceptions()).extracting(PythonException::pythonType)
                    .containsExactly("ValueError", "sb_fixtures.QuotaExceeded");
            assertThat(e.exceptions().get(1).attributes()).containsEntry("used", 2L);
        });
    }

    @Test
    void aSyntaxErrorInTheUsersModuleShowsItsFileLineAndText() {
        assertThatThrownBy(() -> py.call("sb_broken_syntax.broken")).isInstanceOfSatisfying(PythonException.class, e -> {
            assertThat(e.pythonType()).isEqualTo("SyntaxError");
            PythonException.Frame where = e.traceback().get(e.traceback().size() - 1);
            assertThat(where.file()).endsWith("sb_broken_syntax.py");
            assertThat(where.line()).isEqualTo(4);
            assertThat(where.text()).isEqualTo("def broken(:");
            assertThat(e.formattedTraceback()).contains("sb_broken_syntax.py\", line 4").contains("def broken(:");
        });
    }
}
