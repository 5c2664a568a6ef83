package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.longs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Prepared calls (PROTOCOL.md PREP-*) against a real worker. */
class PreparedCallTest extends SharedWorkerTest {

    @Test
    void aPreparedCallReturnsWhatACallWould() {
        try (PreparedCall sqrt = py.prepare("math.sqrt")) {
            assertThat(sqrt.call(2.0).asDouble()).isEqualTo(Math.sqrt(2.0));
            assertThat(sqrt.call(16).asDouble()).isEqualTo(4.0);
            assertThat(sqrt.name()).isEqualTo("math.sqrt");
            assertThatThrownBy(() -> sqrt.call(-1.0)).isInstanceOfSatisfying(PythonException.class,
                    e -> assertThat(e.pythonType()).isEqualTo("ValueError"));
        }
    }

    @Test
    void scalarCallsAndNumericColumnsTravelLeanAndTheRestInJson() {
        try (PreparedCall max = py.prepare("max"); PreparedCall divmod = py.prepare("divmod")) {
            long lean = py.leanRequestsSent();
            assertThat(max.call(1.5, 2.5).asDouble()).isEqualTo(2.5);
            assertThat(max.call("a", "é").asString()).isEqualTo("é");
            assertThat(max.call(3L, -4L).asLong()).isEqualTo(3L);
            assertThat(max.call(true, false).asBoolean()).isTrue();
            assertThat(max.addBatch(1.0, 2L).addBatch(4.0, 3L).executeBatch(double[].class)).containsExactly(2.0, 4.0);
            assertThat(py.leanRequestsSent() - lean).isEqualTo(5);
            assertThat(divmod.call(7, 2).raw()).isEqualTo(PyTuple.of(3L, 1L)); // a tuple answer comes back in JSON
            assertThat(py.leanRequestsSent() - lean).isEqualTo(6);
            assertThat(max.call(Double.NaN, 1.0).asDouble()).isNaN(); // a special float goes in JSON
            assertThat(max.call(List.of(1), List.of(2)).asList()).containsExactly(2L);
            assertThat(py.leanRequestsSent() - lean).isEqualTo(6);
        }
    }

    @Test
    void anyScalarArgumentAndAnswerCrossesTheLeanEncodingUnchanged() {
        try (PreparedCall echo = py.prepare("sb_fixtures.echo")) {
            qt().withExamples(150).forAll(doubles().any()).checkAssert(d -> assertThat(echo.call(d).asDouble()).isEqualTo(d));
            qt().withExamples(150).forAll(longs().all()).checkAssert(n -> assertThat(echo.call(n).asLong()).isEqualTo(n));
            qt().withExamples(150).forAll(PropertyTest.text()).checkAssert(text -> assertThat(echo.call(text).asString()).isEqualTo(text));
        }
        try (PreparedCall ord = py.prepare("ord")) {
            assertThat(ord.call("\uD800").asLong()).as("a lone surrogate goes in JSON, not as a '?'").isEqualTo(0xD800);
        }
    }

    @Test
    void theNameIsResolvedOnceWhenPrepared() {
        try (WorkerConnection own = Workers.connect(); PreparedCall greet = own.prepare("sb_fixtures.greet")) {
            own.call("sb_fixtures.rebind_greet");
            assertThat(own.call("sb_fixtures.greet", "x").asString()).isEqualTo("X");
            assertThat(greet.call("x").asString()).isEqualTo("hello x");
        }
    }

    @Test
    void executeBatchRunsEveryRowInOrderInOneRoundTripAndEmptiesTheBatch() {
        try (PreparedCall pow = py.prepare("math.pow")) {
            for (int i = 0; i < 100; i++) {
                pow.addBatch((double) i, 2);
            }
            long before = py.requestsSent();
            List<PyValue> squares = pow.executeBatch();
            assertThat(py.requestsSent() - before).isEqualTo(1);
            assertThat(squares).hasSize(100);
            for (int i = 0; i < 100; i++) {
                assertThat(squares.get(i).asDouble()).isEqualTo((double) i * i);
            }
            assertThat(pow.batchSize()).isZero();
            assertThat(pow.executeBatch()).isEmpty();
            assertThat(py.requestsSent() - before).as("an empty batch sends nothing").isEqualTo(1);
        }
    }

    @Test
    void rowsOfDifferentLengthsAndOfAnyValuesTravelAsRows() {
        try (PreparedCall max = py.prepare("max"); RefHandle list = py.callRef("list")) {
            max.addBatch(1, 5).addBatch(7, 2, 3).addBatch("a", "b");
            assertThat(max.executeBatch()).extracting(PyValue::raw).containsExactly(5L, 7L, "b");
            try (PreparedCall len = py.prepare("len")) {
                len.addBatch(list).addBatch(List.of(1, 2));
                assertThat(len.executeBatch()).extracting(PyValue::raw).containsExactly(0L, 2L);
            }
        }
    }

    @Test
    void executeBatchReturnsScalarResultsAsOnePrimitiveArray() {
        try (PreparedCall sqrt = py.prepare("math.sqrt"); PreparedCall floor = py.prepare("math.floor");
                PreparedCall isFinite = py.prepare("math.isfinite")) {
            for (int i = 0; i < 10_000; i++) {
                sqrt.addBatch((double) i);
                floor.addBatch(i + 0.5);
                isFinite.addBatch(i % 2 == 0 ? (double) i : Double.NaN);
            }
            double[] roots = sqrt.executeBatch(double[].class);
            long[] floors = floor.executeBatch(long[].class);
            boolean[] finite = isFinite.executeBatch(boolean[].class);
            for (int i = 0; i < 10_000; i++) {
                assertThat(roots[i]).isEqualTo(Math.sqrt(i));
                assertThat(floors[i]).isEqualTo(i);
                assertThat(finite[i]).isEqualTo(i % 2 == 0);
            }
            assertThat(sqrt.executeBatch(double[].class)).isEmpty();
            assertThatThrownBy(() -> sqrt.addBatch(1.0).executeBatch(String[].class)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void eachFailedRowCarriesItsIndexAndPythonErrorAndTheOtherRowsTheirResults() {
        try (PreparedCall sqrt = py.prepare("math.sqrt")) {
            sqrt.addBatch(4.0).addBatch(-1.0).addBatch(9.0).addBatch(-4.0);
            assertThatThrownBy(sqrt::executeBatch).isInstanceOfSatisfying(PreparedBatchException.class, e -> {
                assertThat(e.rowErrors()).containsOnlyKeys(1, 3);
                assertThat(e.rowErrors().get(1)).isInstanceOfSatisfying(PythonException.class,
                        error -> assertThat(error.pythonType()).isEqualTo("ValueError"));
                assertThat(e.sqlState()).isEqualTo("38000");
                assertThat(e.getCause()).isSameAs(e.rowErrors().get(1));
                List<?> results = (List<?>) e.results();
                assertThat(((PyValue) results.get(0)).asDouble()).isEqualTo(2.0);
                assertThat(results.get(1)).isNull();
                assertThat(((PyValue) results.get(2)).asDouble()).isEqualTo(3.0);
            });
            sqrt.addBatch(4.0).addBatch(-1.0);
            assertThatThrownBy(() -> sqrt.executeBatch(double[].class)).isInstanceOfSatisfying(PreparedBatchException.class,
                    e -> assertThat((double[]) e.results()).containsExactly(2.0, 0.0));
        }
        try (PreparedCall str = py.prepare("str")) {
            str.addBatch(1);
            assertThatThrownBy(() -> str.executeBatch(double[].class)).isInstanceOfSatisfying(PreparedBatchException.class,
                    e -> assertThat(e.rowErrors().get(0)).isInstanceOf(InvalidValueException.class));
        }
    }

    @Test
    void aClosedPreparedCallFailsWithoutARoundTripAndIsReleased() {
        int before = py.liveRefs();
        PreparedCall sqrt = py.prepare("math.sqrt");
        assertThat(py.liveRefs()).isEqualTo(before + 1);
        sqrt.close();
        sqrt.close();
        assertThat(sqrt.isClosed()).isTrue();
        assertThat(py.liveRefs()).isEqualTo(before);
        long sent = py.requestsSent();
        assertThatThrownBy(() -> sqrt.call(2.0)).isInstanceOfSatisfying(InvalidRefException.class,
                e -> assertThat(e.sqlState()).isEqualTo("24000"));
        assertThatThrownBy(() -> sqrt.addBatch(2.0)).isInstanceOf(InvalidRefException.class);
        assertThat(py.requestsSent()).isEqualTo(sent);
    }

    @Test
    @Timeout(60)
    void aPreparedCallDroppedWithoutCloseIsReleasedAsARefWouldBe() throws InterruptedException {
        try (WorkerConnection own = Workers.connect()) {
            prepareAndDrop(own);
            assertThat(own.liveRefs()).isEqualTo(1);
            long deadline = System.nanoTime() + java.time.Duration.ofSeconds(20).toNanos();
            while (own.liveRefs() != 0 && System.nanoTime() < deadline) { // each liveRefs() carries what the GC enqueued
                System.gc();
                Thread.sleep(20);
            }
            assertThat(own.liveRefs()).isZero();
        }
    }

    private static void prepareAndDrop(WorkerConnection connection) {
        connection.prepare("math.sqrt").call(1.0);
    }

    @Test
    void aSessionResetEndsItsPreparedCalls() {
        try (WorkerConnection own = Workers.connect()) {
            PreparedCall sqrt = own.prepare("math.sqrt");
            assertThat(own.resetSession()).isEqualTo(1);
            long sent = own.requestsSent();
            assertThat(sqrt.isClosed()).isTrue();
            assertThatThrownBy(() -> sqrt.call(2.0)).isInstanceOfSatisfying(RefNotFoundException.class,
                    e -> assertThat(e.reason()).isEqualTo(RefNotFoundException.Reason.SESSION_RELEASED));
            assertThat(own.requestsSent()).isEqualTo(sent);
            assertThat(own.workerLiveRefs()).isZero();
        }
    }

    @Test
    void theModulePolicyJudgesTheNameWhenPrepared() {
        try (WorkerConnection own = Workers.connect(Workers.config().allowModules("math"))) {
            assertThatThrownBy(() -> own.prepare("os.getcwd")).isInstanceOfSatisfying(ModuleNotAllowedException.class,
                    e -> assertThat(e.sqlState()).isEqualTo("42501"));
            assertThatThrownBy(() -> own.prepare("math.__loader__")).isInstanceOf(ModuleNotAllowedException.class);
            assertThat(own.liveRefs()).isZero();
            try (PreparedCall sqrt = own.prepare("math.sqrt")) {
                assertThat(sqrt.addBatch(4.0).executeBatch(double[].class)).containsExactly(2.0);
            }
        }
    }

    @Test
    void whatCannotBeCalledCannotBePrepared() {
        assertThatThrownBy(() -> py.prepare("math.pi")).isInstanceOf(InvalidValueException.class);
        assertThatThrownBy(() -> py.prepare("math.no_such")).isInstanceOfSatisfying(PythonException.class,
                e -> assertThat(e.pythonType()).isEqualTo("AttributeError"));
    }

    @Test
    void aMethodOfARefCanBePrepared() {
        try (RefHandle rx = py.callRef("re.compile", "a+b"); PreparedCall fullmatch = rx.prepare("fullmatch")) {
            fullmatch.addBatch("aab").addBatch("ba");
            List<PyValue> matches = fullmatch.executeBatch();
            assertThat(matches.get(0).isRef()).isTrue();
            assertThat(matches.get(1).isNone()).isTrue();
            matches.get(0).close();
        }
    }

    @Test
    @Timeout(60)
    void aCancelDuringExecuteBatchEndsTheWholeBatchAndKeepsTheSession(@TempDir Path dir) {
        try (WorkerConnection own = Workers.connect(); PreparedCall sleep = own.prepare("sb_fixtures.mark_then_sleep")) {
            Path mark = dir.resolve("running");
            sleep.addBatch(dir.resolve("first").toString(), 0).addBatch(mark.toString(), 60).addBatch(mark.toString(), 60);
            var cancelled = Workers.cancelOnceRunning(() -> Files.exists(mark), own::cancel);
            assertThatThrownBy(sleep::executeBatch).isInstanceOf(CallCancelledException.class);
            assertThat(cancelled.join()).as("the second row marked that it runs").isTrue();
            assertThat(own.isClosed()).isFalse();
            assertThat(sleep.call(dir.resolve("again").toString(), 0).isNone()).isTrue();
        }
    }
}
