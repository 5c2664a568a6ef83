package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Batches with promise pipelining, against a real worker. */
class BatchTest extends SharedWorkerTest {

    @Test
    void aChainOfDependentCallsCostsOneRoundTripAndLeavesNoRefs() {
        long before = py.requestsSent();
        Batch batch = py.batch();
        Promise rx = batch.call("re.compile", "a+b").discardResult();
        Promise match = batch.callMethod(rx, "fullmatch", "aab").discardResult();
        Promise text = batch.callMethod(match, "group");
        Promise pattern = batch.getAttr(rx, "pattern");
        batch.execute();
        assertThat(py.requestsSent() - before).isEqualTo(1);
        assertThat(text.get().asString()).isEqualTo("aab");
        assertThat(pattern.get().asString()).isEqualTo("a+b");
        assertThat(rx.get().isNone()).isTrue();
        assertThat(py.liveRefs()).isZero();
    }

    @Test
    void aThousandCallsComeBackInOrderFromOneRequest() {
        long before = py.requestsSent();
        Batch batch = py.batch();
        List<Promise> roots = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            roots.add(batch.call("math.sqrt", (double) i * i));
        }
        batch.execute();
        assertThat(py.requestsSent() - before).isEqualTo(1);
        for (int i = 0; i < 1_000; i++) {
            assertThat(roots.get(i).get().asDouble()).isEqualTo(i);
        }
    }

    @Test
    void eachCallGetsItsOwnErrorAndDependentsFailWithTheCauseWhileOthersRun() {
        Batch batch = py.batch();
        Promise bad = batch.call("int", "x");
        Promise fine = batch.call("len", List.of(1, 2));
        Promise dependent = batch.call("abs", bad);
        Promise after = batch.call("str.upper", "still runs");
        batch.execute();
        assertThatThrownBy(bad::get).isInstanceOfSatisfying(PythonException.class,
                e -> assertThat(e.pythonType()).isEqualTo("ValueError"));
        assertThat(fine.get().asLong()).isEqualTo(2);
        assertThat(dependent.isOk()).isFalse();
        assertThat(dependent.error()).isInstanceOfSatisfying(DependencyFailedException.class, e -> {
            assertThat(e.failedIndex()).isZero();
            assertThat(e.getCause()).isSameAs(bad.error());
            assertThat(e.sqlState()).isEqualTo("25000");
        });
        assertThat(after.get().asString()).isEqualTo("STILL RUNS");
    }

    @Test
    void aJavaExceptionThrownByACallbackInABatchIsTheCauseOfItsCallsErrorAndOfItsDependents() {
        IllegalStateException original = new IllegalStateException("rejected by Java");
        Function<Object, Object> failing = x -> {
            throw original;
        };
        Batch batch = py.batch();
        Promise failed = batch.call("sb_fixtures.apply", failing, 1);
        Promise dependent = batch.call("str", failed);
        Promise fine = batch.call("sb_fixtures.apply", (Function<Object, Object>) x -> x + "!", "ok");
        batch.execute();
        assertThat(failed.error()).isInstanceOfSatisfying(PythonException.class, e -> {
            assertThat(e.pythonType()).isEqualTo("snakebridge_worker.callbacks.CallbackError");
            assertThat(e.getCause()).isSameAs(original);
        });
        assertThat(dependent.error()).isInstanceOf(DependencyFailedException.class).cause().isSameAs(failed.error());
        assertThat(fine.get().asString()).isEqualTo("ok!");
    }

    @Test
    void refsFromABatchAreOrdinaryHandlesOfTheSession() {
        Batch batch = py.batch();
        Promise counter = batch.callRef("sb_fixtures.Counter", 5);
        batch.callMethod(counter, "add", 2);
        batch.execute();
        try (RefHandle handle = counter.get().asRef()) {
            assertThat(handle.getAttr("count").asLong()).isEqualTo(7);
        }
        assertThat(py.liveRefs()).isZero();
    }

    @Test
    void aPromiseOnlyServesLaterCallsOfItsOwnBatch() {
        Batch first = py.batch();
        Promise foreign = first.call("abs", -1);
        Batch second = py.batch();
        second.call("abs", foreign);
        assertThatThrownBy(second::execute).isInstanceOf(InvalidValueException.class)
                .hasMessageContaining("only be passed to a later call of the batch that made it");
        assertThatThrownBy(foreign::get).isInstanceOf(IllegalStateException.class).hasMessageContaining("execute()");
        first.execute();
        assertThat(foreign.get().asLong()).isEqualTo(1);
        assertThatThrownBy(first::execute).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> py.call("abs", foreign)).isInstanceOf(InvalidValueException.class);
    }

    @Test
    void aBatchNeverRunsInALaterSession() {
        try (WorkerConnection own = Workers.connect()) {
            Batch batch = own.batch();
            batch.call("abs", -1);
            own.resetSession();
            assertThatThrownBy(batch::execute).isInstanceOf(BridgeClosedException.class).hasMessageContaining("its own session");
        }
    }
}
