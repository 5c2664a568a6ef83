package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** callAsync against a real worker: pipelined, in order, errors per call. */
class AsyncCallTest extends SharedWorkerTest {

    @Test
    void manyAsyncCallsArePipelinedAndEachGetsItsOwnResult() {
        List<CompletableFuture<PyValue>> futures = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            futures.add(py.callAsync("math.sqrt", (double) i * i));
        }
        for (int i = 0; i < 200; i++) {
            assertThat(futures.get(i).join().asDouble()).isEqualTo(i);
        }
        assertThat(py.maxAsyncInFlight()).as("requests written before the first response was read").isGreaterThan(1);
    }

    @Test
    void aFailingAsyncCallFailsOnlyItsOwnFuture() {
        CompletableFuture<PyValue> bad = py.callAsync("int", "x");
        CompletableFuture<PyValue> good = py.callAsync("abs", -3);
        assertThat(good.join().asLong()).isEqualTo(3);
        assertThatThrownBy(bad::join).isInstanceOf(CompletionException.class)
                .cause().isInstanceOfSatisfying(PythonException.class, e -> assertThat(e.pythonType()).isEqualTo("ValueError"));
    }

    @Test
    void aLaterSynchronousCallOfTheSameThreadRunsAfterItsAsyncCalls() {
        try (RefHandle log = py.callRef("list")) {
            CompletableFuture<PyValue> first = py.callAsync("list.append", log, 1);
            py.call("list.append", log, 2);
            assertThat(first.isDone()).isTrue();
            assertThat(log.value().asList()).containsExactly(1L, 2L);
        }
    }

    @Test
    void callbacksCannotBePassedToAsyncCalls() {
        Function<Object, Object> key = x -> x;
        assertThatThrownBy(() -> py.callAsync("sorted", List.of(2, 1), key)).isInstanceOf(InvalidValueException.class)
                .hasMessageContaining("use call()");
        assertThat(py.call("abs", -1).asLong()).isEqualTo(1);
    }

    @Test
    void anAsyncCallHasTheCallTimeoutOfTheThreadThatSubmittedIt() throws Exception {
        try (WorkerConnection own = Workers.connect(); RefHandle counter = own.callRef("sb_fixtures.Counter", 1)) {
            CompletableFuture<PyValue> slow = own.withCallTimeout(Duration.ofMillis(300), c -> c.callAsync("time.sleep", 30));
            CompletableFuture<PyValue> next = own.callAsync("abs", -2);
            // It runs on the dispatcher's thread, which has no override: without the submitter's timeout it would sleep 30 s.
            assertThatThrownBy(() -> slow.get(20, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                        assertThat(e.getMessage()).contains("PT0.3S");
                        assertThat(e.workerKilled()).isFalse();
                    });
            assertThat(next.get(20, TimeUnit.SECONDS).asLong()).isEqualTo(2);
            assertThat(counter.call("add").asLong()).isEqualTo(2);
        }
    }

    @Test
    void closingTheConnectionFailsAsyncCallsThatHaveNotRun() throws Exception {
        WorkerConnection own = Workers.connect();
        CompletableFuture<Void> busy = CompletableFuture.runAsync(() -> own.call("time.sleep", 2.0)); // holds the connection
        while (own.requestsSent() < 3) { // handshake, open_session, then the sleep
            Thread.sleep(5);
        }
        List<CompletableFuture<PyValue>> queued = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            queued.add(own.callAsync("abs", i)); // cannot be written while the sleep holds the connection
        }
        own.close();
        assertThat(queued).allSatisfy(f -> assertThatThrownBy(f::join).cause().isInstanceOf(BridgeClosedException.class)
                .hasMessageContaining("closed before the async call ran"));
        busy.handle((v, e) -> null).join();
        assertThatThrownBy(() -> own.callAsync("abs", 1)).isInstanceOf(BridgeClosedException.class);
    }
}
