package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class CallbackTest extends SharedWorkerTest {

    @Test
    void sortedUsesAJavaKeyFunction() {
        Function<String, Integer> length = String::length;
        assertThat(py.call("sorted", List.of(List.of("ccc", "a", "bb")), Map.of("key", length)).asList())
                .containsExactly("a", "bb", "ccc");
    }

    @Test
    void callbacksOfEveryFunctionalShapeReceiveTheirArguments() {
        BiFunction<Long, Long, Long> add = Long::sum;
        Supplier<String> hello = () -> "hello";
        PyCallback kw = (args, kwargs) -> args.size() + ":" + kwargs.get("k");
        assertThat(py.call("sb_fixtures.apply", add, 2, 3).asLong()).isEqualTo(5);
        assertThat(py.call("sb_fixtures.apply", hello).asString()).isEqualTo("hello");
        assertThat(py.call("eval", "lambda f: f(1, 2, k='v')").isRef()).isTrue();
        try (RefHandle caller = py.callRef("eval", "lambda f: f(1, 2, k='v')")) {
            assertThat(caller.call("__call__", kw).asString()).isEqualTo("2:v");
        }
    }

    @Test
    void aCallbackReceivesRefsAndCanUseThem() {
        Function<RefHandle, Object> readX = ref -> {
            try (ref) {
                return ref.getAttr("x").asLong() * 2;
            }
        };
        try (RefHandle ns = py.callRef("types.SimpleNamespace")) {
            ns.setAttr("x", 21);
            assertThat(py.call("sb_fixtures.apply", readX, ns).asLong()).isEqualTo(42);
        }
    }

    @Test
    void aCallbackCanCallBackIntoPythonThreeLevelsDeep() {
        Function<Long, Object> level3 = x -> x * 10;
        Function<Long, Object> level2 = x -> py.call("sb_fixtures.apply", level3, x + 1).raw();
        Function<Long, Object> level1 = x -> py.call("sb_fixtures.apply", level2, x + 1).raw();
        assertThat(py.call("sb_fixtures.apply", level1, 1).asLong()).isEqualTo(30);
        assertThat(py.call("len", "still in step").asLong()).isEqualTo(13);
    }

    @Test
    void aJavaExceptionInACallbackCanBeCaughtByPython() {
        Supplier<Object> boom = () -> {
            throw new IllegalStateException("boom");
        };
        assertThat(py.call("sb_fixtures.call_and_catch", boom).asString())
                .isEqualTo("CallbackError: java.lang.IllegalStateException: boom");
    }

    @Test
    void anUncaughtJavaExceptionReachesTheCallerAsTheCauseOfAPythonException() {
        IllegalArgumentException original = new IllegalArgumentException("bad input");
        Function<Object, Object> failing = x -> {
            throw original;
        };
        assertThatThrownBy(() -> py.call("sb_fixtures.apply", failing, 1)).isInstanceOfSatisfying(PythonException.class, e -> {
            assertThat(e.pythonType()).isEqualTo("snakebridge_worker.callbacks.CallbackError");
            assertThat(e.getCause()).isSameAs(original);
        });
    }

    @Test
    void aCallbackUsedAfterItsCallReturnedIsAClearError() {
        Supplier<String> late = () -> "too late";
        py.call("sb_fixtures.keep", late);
        assertThatThrownBy(() -> py.call("sb_fixtures.call_kept")).isInstanceOfSatisfying(PythonException.class, e -> {
            assertThat(e.pythonType()).isEqualTo("RuntimeError");
            assertThat(e.pythonMessage()).contains("passed to a call that has returned");
        });
    }

    @Test
    void aCallbackCalledWithTheWrongNumberOfArgumentsIsATypeError() {
        Function<Object, Object> one = x -> x;
        assertThatThrownBy(() -> py.call("sb_fixtures.apply", one, 1, 2)).isInstanceOfSatisfying(PythonException.class,
                e -> assertThat(e.pythonType()).isEqualTo("TypeError"));
    }

    @Test
    void aCallbackResultTooLargeToSendFailsThePythonCallAndLeavesNoFrameBehind() {
        try (WorkerConnection own = Workers.connect(Workers.config().maxFrameBytes(4096))) {
            own.call("sb_fixtures.stack_depth"); // a name's first call takes the worker's general path, later ones its short path
            long depth = own.call("sb_fixtures.stack_depth").asLong();
            Supplier<String> tooLarge = () -> "x".repeat(10_000); // within maxStringLength, past one frame
            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(() -> own.call("sb_fixtures.apply", tooLarge)).isInstanceOfSatisfying(PythonException.class,
                        e -> assertThat(e.getCause()).isInstanceOf(InvalidValueException.class).hasMessageContaining("maxFrameBytes=4096"));
            }
            assertThat(own.call("sb_fixtures.stack_depth").asLong()).as("Python frames under a later call").isEqualTo(depth);
            assertThat(own.call("abs", -7).asLong()).isEqualTo(7);
        }
    }

    @Test
    void aCallbackErrorTooLargeToSendBreaksTheConnectionInsteadOfLeavingTheWorkerWaiting() {
        try (WorkerConnection own = Workers.connect(Workers.config().maxFrameBytes(4096))) {
            Supplier<String> failsLoudly = () -> {
                throw new IllegalStateException("x".repeat(10_000)); // its error reply is past one frame too
            };
            assertThatThrownBy(() -> own.call("sb_fixtures.apply", failsLoudly)).isInstanceOfSatisfying(ProtocolException.class,
                    e -> assertThat(e.sqlState()).startsWith("08"));
            assertThat(own.isClosed()).isTrue();
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void cancelStillWorksDuringACallbackHeavyCall() {
        try (WorkerConnection own = Workers.connect()) {
            RefHandle ns = own.callRef("types.SimpleNamespace");
            AtomicLong calls = new AtomicLong();
            Function<Long, Long> identity = x -> {
                calls.incrementAndGet();
                return x;
            };
            var cancelled = Workers.cancelOnceRunning(() -> calls.get() >= 100, own::cancel); // well into the callbacks
            assertThatThrownBy(() -> own.call("sb_fixtures.call_many", identity, 100_000_000))
                    .isInstanceOfSatisfying(CallCancelledException.class, e -> assertThat(e.workerKilled()).isFalse());
            assertThat(cancelled.join()).isTrue();
            assertThat(own.call("sb_fixtures.apply", identity, 7).asLong()).isEqualTo(7);
            ns.setAttr("x", 1);
        }
    }

    @Test
    // A lost cancel state also loses the timeout: fail instead of hanging (a blocked pipe read ignores interrupts).
    @org.junit.jupiter.api.Timeout(value = 30, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void cancelOfTheOuterCallStillLandsAfterACallbackMadeANestedCall() {
        // The failsafe timeout only fires if the cancel is lost, and then the test fails.
        try (WorkerConnection own = Workers.connect(Workers.config().callTimeout(java.time.Duration.ofSeconds(10)))) {
            CountDownLatch nestedCallAnswered = new CountDownLatch(1);
            Function<Long, Long> nested = x -> {
                long answer = own.call("abs", -x).asLong();
                nestedCallAnswered.countDown(); // the cancel now targets the outer call (CB-5: not lost in the callback)
                return answer;
            };
            var cancelled = Workers.cancelOnceRunning(() -> nestedCallAnswered.getCount() == 0, own::cancel);
            assertThatThrownBy(() -> own.call("sb_fixtures.nested_then_busy", nested)).isInstanceOf(CallCancelledException.class);
            assertThat(cancelled.join()).isTrue();
            assertThat(own.call("abs", -7).asLong()).isEqualTo(7);
        }
    }

    @Test
    void scipyMinimizesAJavaObjective() {
        Assumptions.assumeTrue(py.call("importlib.util.find_spec", "scipy").isRef(), "scipy is not importable");
        Function<RefHandle, Double> quadratic = x -> {
            try (x) {
                List<Object> v = x.call("tolist").asList();
                double a = (Double) v.get(0) - 1.0;
                double b = (Double) v.get(1) + 2.0;
                return a * a + b * b + 3.0;
            }
        };
        try (PyValue result = py.call("scipy.optimize.minimize", List.of(quadratic, List.of(0.0, 0.0)),
                Map.of("method", "Nelder-Mead", "options", Map.of("xatol", 1e-9, "fatol", 1e-12)))) {
            RefHandle x = (RefHandle) result.asMap().get("x");
            List<Object> minimum = x.call("tolist").asList();
            assertThat((Double) minimum.get(0)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
            assertThat((Double) minimum.get(1)).isCloseTo(-2.0, org.assertj.core.data.Offset.offset(1e-6));
            assertThat((Double) result.asMap().get("fun")).isCloseTo(3.0, org.assertj.core.data.Offset.offset(1e-9));
        }
    }
}
