package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every call form takes the same shapes: {@code (name, Object...)} for positional arguments, and
 * {@code (name, List, Map)} for positional and keyword arguments. A List and a Map after the name
 * are never sent as two positional arguments.
 */
class CallShapesTest extends SharedWorkerTest {
    private static final Map<String, Object> KEYWORDS = Map.of("a", 1);

    @Test
    void callRefTakesKeywordArguments() {
        try (RefHandle dict = py.callRef("dict", List.of(), KEYWORDS)) {
            assertThat(dict.value().asMap()).isEqualTo(Map.of("a", 1L));
        }
    }

    @Test
    void aRefsCallRefTakesKeywordArguments() {
        try (RefHandle counter = py.callRef("sb_fixtures.Counter");
                RefHandle sum = counter.callRef("add", List.of(), Map.of("n", 5))) {
            assertThat(sum.value().asLong()).isEqualTo(5);
        }
    }

    @Test
    void callArrayTakesKeywordArguments() {
        NDArray zeros = py.callArray("numpy.zeros", List.of(3), Map.of("dtype", "int32"));
        assertThat(zeros.dtype()).isEqualTo(NDArray.DType.INT32);
    }

    @Test
    void callAsyncTakesKeywordArguments() {
        assertThat(py.callAsync("dict", List.of(), KEYWORDS).join().asMap()).isEqualTo(Map.of("a", 1L));
    }

    @Test
    void batchCallsTakeKeywordArguments() {
        Batch batch = py.batch();
        Promise dict = batch.callRef("dict", List.of(), KEYWORDS);
        Promise copied = batch.callMethod(dict, "copy", List.of(), Map.of());
        Promise got = batch.callMethod(dict, "get", List.of("b"), Map.of());
        batch.execute();
        assertThat(copied.get().asMap()).isEqualTo(Map.of("a", 1L));
        assertThat(got.get().isNone()).isTrue();
        dict.get().close();
    }
}
