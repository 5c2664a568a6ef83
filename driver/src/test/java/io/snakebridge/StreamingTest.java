package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class StreamingTest extends SharedWorkerTest {

    @Test
    void aGeneratorOfOneHundredThousandItemsStreamsCompletelyInBatchesOfTheFetchSize() {
        long before = py.requestsSent();
        long sum = 0;
        long count = 0;
        try (PyCursor items = py.callRef("sb_fixtures.counting", 100_000).iterate(1_000)) {
            while (items.hasNext()) {
                sum += (Long) items.next();
                count++;
            }
        }
        assertThat(count).isEqualTo(100_000);
        assertThat(sum).isEqualTo(99_999L * 100_000 / 2);
        // the call, 100 full batches, one empty batch that says done, and the release
        assertThat(py.requestsSent() - before).isEqualTo(103);
        assertThat(py.liveRefs()).isZero();
    }

    @Test
    void closingACursorEarlyRunsTheGeneratorsFinallyAndReleasesIt() {
        try (PyCursor items = py.callRef("sb_fixtures.counting", 1_000_000).iterate(10)) {
            assertThat(items.next()).isEqualTo(0L);
            assertThat(py.getAttr("sb_fixtures.generator_finished").asList()).doesNotContain(1_000_000L);
        }
        assertThat(py.getAttr("sb_fixtures.generator_finished").asList()).contains(1_000_000L);
        assertThat(py.liveRefs()).isZero();
    }

    @Test
    void anyIterableIsReadThroughAFreshIteratorAndNoneItemsSurvive() {
        try (RefHandle list = py.callRef("list", Arrays.asList(1, null, "three"))) {
            List<Object> items = new ArrayList<>();
            try (PyCursor cursor = list.iterate(2)) {
                cursor.forEachRemaining(items::add);
            }
            assertThat(items).containsExactly(1L, null, "three");
            assertThat(list.call("__len__").asLong()).isEqualTo(3); // the list itself is still there
        }
    }

    @Test
    void aStreamOfACursorClosesItWhenTheStreamIsClosed() {
        List<Object> firstFive;
        try (var stream = py.callRef("sb_fixtures.counting", 50_000).iterate(100).stream()) {
            firstFive = stream.limit(5).collect(Collectors.toList());
        }
        assertThat(firstFive).containsExactly(0L, 1L, 2L, 3L, 4L);
        assertThat(py.getAttr("sb_fixtures.generator_finished").asList()).contains(50_000L);
        assertThat(py.liveRefs()).isZero();
    }

    @Test
    void anExceptionInTheMiddleOfAStreamSurfacesAsAPythonException() {
        try (PyCursor items = py.callRef("sb_fixtures.failing_after", 3).iterate(2)) {
            assertThat(items.next()).isEqualTo(0L);
            assertThat(items.next()).isEqualTo(1L);
            assertThat(items.next()).isEqualTo(2L); // produced before the exception, in the same batch: not lost
            assertThatThrownBy(items::hasNext).isInstanceOfSatisfying(PythonException.class,
                    e -> assertThat(e.pythonMessage()).isEqualTo("broke after 3"));
            assertThat(items.hasNext()).isFalse();
        }
    }

    @Test
    void aClosedCursorFailsFast() {
        PyCursor items = py.callRef("sb_fixtures.counting", 10).iterate(5);
        items.close();
        items.close();
        assertThatThrownBy(items::hasNext).isInstanceOf(InvalidRefException.class);
        try (RefHandle generator = py.callRef("sb_fixtures.counting", 1)) {
            assertThatThrownBy(() -> generator.iterate(0)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
