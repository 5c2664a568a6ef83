package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * maxResponseBytes and maxResponseElements (PROTOCOL.md RESP-*, CLIENT-5): a response past them fails
 * its own call with InvalidValueException, and the connection answers the next call. Each rule is
 * held twice: against the worker, which refuses before sending, and against a worker that ignores the
 * caps, where the driver reads the response to its end without keeping it.
 */
class ResponseCapsTest {
    private static final String PYTHON = System.getProperty("snakebridge.python", "python3");
    static final Path UNCAPPED_WORKER = Workers.FIXTURES.resolve("uncapped_worker.py");

    @TempDir
    Path dir;

    /** Who enforces the caps: the worker (RESP-*), or the driver alone, for a worker that ignores them (CLIENT-5). */
    enum Enforcer { WORKER, DRIVER }

    private WorkerConnection connect(Enforcer enforcer, BridgeConfig.Builder config) throws Exception {
        if (enforcer == Enforcer.DRIVER) {
            config.python(uncappedWorker(dir).toString()).workerStart(WorkerStart.SPAWN); // a worker script, not a server
        }
        return Workers.connect(config);
    }

    /** An interpreter command that runs the worker which ignores the response caps. */
    static Path uncappedWorker(Path dir) throws Exception {
        // Called as "python -I -c BOOTSTRAP <sources> <pythonPath>...": runs the script instead, with those paths.
        return ConnectionTest.fakeInterpreter(dir, "uncapped-python", "shift 3\nexec " + PYTHON + " -I " + UNCAPPED_WORKER + " \"$@\"");
    }

    private static void assertRefusedNaming(Throwable e, String setting) {
        assertThat(e).isInstanceOfSatisfying(InvalidValueException.class, refused -> {
            assertThat(refused.sqlState()).isEqualTo("22023");
            assertThat(refused.getMessage()).contains(setting).contains("array").contains("in Python"); // and what to do instead
        });
    }

    @Test
    void theResponseCapsAreAgreedAtTheHandshake() {
        try (WorkerConnection py = Workers.connect(Workers.config().maxResponseBytes(5_000_000_000L).maxResponseElements(1000))) {
            assertThat(py.hello().path("limits").path("max_response_bytes").asLong()).isEqualTo(5_000_000_000L);
            assertThat(py.hello().path("limits").path("max_response_elements").asInt()).isEqualTo(1000);
        }
    }

    @Test
    void twentyMillionEmptyListsAndTwentySixtyMegabyteBinaryValuesFailTheirCallsAndTheConnectionGoesOn() {
        try (WorkerConnection py = Workers.connect()) { // the defaults
            assertThatThrownBy(() -> py.call("eval", "[[]] * 20_000_000")).satisfies(e -> assertRefusedNaming(e, "maxResponseElements"));
            assertThatThrownBy(() -> py.call("eval", "[bytes(60_000_000)] * 20")).satisfies(e -> assertRefusedNaming(e, "maxResponseBytes"));
            assertThat(py.call("len", "four").asLong()).isEqualTo(4);
        }
    }

    @ParameterizedTest
    @EnumSource(Enforcer.class)
    void aResponseOfExactlyMaxResponseElementsValuesPassesAndOneMoreFails(Enforcer enforcer) throws Exception {
        try (WorkerConnection py = connect(enforcer, Workers.config().maxResponseElements(1000))) {
            // {"id": n, "ok": true, "result": [...]}: the object and its three members' values are four of the thousand
            assertThat(py.call("eval", "[0] * 996").asList()).hasSize(996);
            assertThatThrownBy(() -> py.call("eval", "[0] * 997")).satisfies(e -> assertRefusedNaming(e, "maxResponseElements"));
            // (0,) travels as an object, its __type__, __schema__ and elements, and the 0: five values
            assertThat(py.call("eval", "[(0,)] * 199").asList()).hasSize(199);
            assertThatThrownBy(() -> py.call("eval", "[(0,)] * 200")).satisfies(e -> assertRefusedNaming(e, "maxResponseElements"));
            assertThat(py.call("len", "four").asLong()).isEqualTo(4);
        }
    }

    @ParameterizedTest
    @EnumSource(Enforcer.class)
    void aResponseJustUnderMaxResponseBytesPassesAndOnePastItFailsBinaryValuesIncluded(Enforcer enforcer) throws Exception {
        try (WorkerConnection py = connect(enforcer, Workers.config().maxResponseBytes(100_000))) {
            assertThat(py.call("eval", "bytes(99_800)").as(byte[].class)).hasSize(99_800); // and some 100 bytes of JSON
            assertThatThrownBy(() -> py.call("eval", "[bytes(40_000)] * 3")).satisfies(e -> assertRefusedNaming(e, "maxResponseBytes"));
            assertThatThrownBy(() -> py.call("eval", "'x' * 200_000")) // a JSON frame larger than the cap: not even it is kept
                    .satisfies(e -> assertRefusedNaming(e, "maxResponseBytes"));
            assertThat(py.call("len", "four").asLong()).isEqualTo(4);
        }
    }

    @ParameterizedTest
    @EnumSource(Enforcer.class)
    void aRefusedAsyncCallFailsAloneAndTheCallsPipelinedAroundItSucceed(Enforcer enforcer) throws Exception {
        try (WorkerConnection py = connect(enforcer, Workers.config().maxResponseElements(1000))) {
            CompletableFuture<PyValue> before = py.callAsync("eval", "[1] * 5");
            CompletableFuture<PyValue> refused = py.callAsync("eval", "[2] * 5000");
            CompletableFuture<PyValue> after = py.callAsync("eval", "[3] * 7");
            assertThat(after.join().asList()).hasSize(7);
            assertThat(before.join().asList()).hasSize(5);
            assertThatThrownBy(refused::join).isInstanceOf(CompletionException.class)
                    .satisfies(e -> assertRefusedNaming(e.getCause(), "maxResponseElements"));
        }
    }

    @ParameterizedTest
    @EnumSource(Enforcer.class)
    void aBatchWhoseResponseIsPastACapFailsWholeAndTheConnectionGoesOn(Enforcer enforcer) throws Exception {
        try (WorkerConnection py = connect(enforcer, Workers.config().maxResponseElements(1000))) {
            Batch batch = py.batch();
            batch.call("eval", "[0] * 600");
            batch.call("eval", "[0] * 600");
            assertThatThrownBy(batch::execute).satisfies(e -> assertRefusedNaming(e, "maxResponseElements"));
            assertThat(py.call("len", "four").asLong()).isEqualTo(4);
        }
    }

    @ParameterizedTest
    @EnumSource(Enforcer.class)
    void aCursorsFetchPastACapFailsItsItemsAreGoneFromTheIteratorAndTheCursorReadsOn(Enforcer enforcer) throws Exception {
        try (WorkerConnection py = connect(enforcer, Workers.config().maxResponseElements(1000));
                PyCursor cursor = py.callRef("eval", "iter([[0] * 2000, 'next'])").iterate(1)) {
            assertThatThrownBy(cursor::hasNext).satisfies(e -> assertRefusedNaming(e, "maxResponseElements"));
            assertThat(cursor.next()).isEqualTo("next");
            assertThat(cursor.hasNext()).isFalse();
        }
    }

    @Test
    void theRefsOfAResultTheWorkerRefusedAreDropped() throws Exception {
        try (WorkerConnection py = connect(Enforcer.WORKER, Workers.config().maxResponseElements(1000))) {
            assertThatThrownBy(() -> py.call("eval", "[object() for _ in range(200)]")).isInstanceOf(InvalidValueException.class);
            assertThat(py.liveRefs()).isZero();
        }
    }

    @Test
    void theRefsOfAResultTheDriverDroppedLiveUntilTheSessionIsReleased() throws Exception {
        try (WorkerConnection py = connect(Enforcer.DRIVER, Workers.config().maxResponseElements(1000))) {
            assertThatThrownBy(() -> py.call("eval", "[object() for _ in range(200)]")).isInstanceOf(InvalidValueException.class);
            assertThat(py.liveRefs()).as("the driver never learned their ids").isEqualTo(200);
            py.resetSession();
            assertThat(py.liveRefs()).isZero();
        }
    }

    @Test
    void aCallbackRequestPastTheCapsIsNeverSentAndTheCallFailsWithInvalidValue() throws Exception {
        AtomicBoolean called = new AtomicBoolean();
        Function<Object, Object> callback = x -> called.getAndSet(true);
        try (WorkerConnection py = connect(Enforcer.WORKER, Workers.config().maxResponseElements(1000))) {
            RefHandle zeros = py.callRef("eval", "[0] * 2000");
            assertThatThrownBy(() -> py.call("sb_fixtures.apply", callback, zeros))
                    .satisfies(e -> assertRefusedNaming(e, "maxResponseElements"));
            assertThat(called).isFalse();
            assertThat(py.call("sb_fixtures.apply", callback, 1).asBoolean()).isFalse();
        }
    }

    @Test
    void aCallbackRequestTheDriverDroppedIsAnsweredWithItsErrorAndTheCallFailsWithThatCause() throws Exception {
        AtomicBoolean called = new AtomicBoolean();
        Function<Object, Object> callback = x -> called.getAndSet(true);
        try (WorkerConnection py = connect(Enforcer.DRIVER, Workers.config().maxResponseElements(1000))) {
            RefHandle zeros = py.callRef("eval", "[0] * 2000");
            assertThatThrownBy(() -> py.call("sb_fixtures.apply", callback, zeros)).isInstanceOfSatisfying(PythonException.class,
                    e -> assertRefusedNaming(e.getCause(), "maxResponseElements"));
            assertThat(called).isFalse();
            assertThat(py.call("sb_fixtures.apply", callback, 1).asBoolean()).isFalse();
        }
    }

    @Test
    void capsOutsideTheProtocolsRangesAreRefusedByTheBuilder() {
        assertThatThrownBy(() -> BridgeConfig.builder().maxResponseBytes(1023)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxResponseBytes must be from 1024 to 9223372036854775807");
        assertThatThrownBy(() -> BridgeConfig.builder().maxResponseElements(63)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxResponseElements must be from 64");
    }

    @Test
    void theCapsCanBeSetInAJdbcUrl() throws Exception {
        // The URL names the build's interpreter only when it is not the default (python chooses code: allowed then).
        boolean otherInterpreter = !PYTHON.equals(BridgeConfig.defaults().python());
        String allowedBefore = System.getProperty(io.snakebridge.jdbc.SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY);
        if (otherInterpreter) {
            System.setProperty(io.snakebridge.jdbc.SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY, "true");
        }
        try (Connection jdbc = DriverManager.getConnection("jdbc:snakebridge:?" + (otherInterpreter ? "python=" + PYTHON + "&" : "")
                + "maxResponseElements=1000&maxResponseBytes=100000")) {
            BridgeConnection py = jdbc.unwrap(BridgeConnection.class);
            assertThat(py.call("eval", "[0] * 996").asList()).hasSize(996);
            assertThatThrownBy(() -> py.call("eval", "[0] * 997")).satisfies(e -> assertRefusedNaming(e, "maxResponseElements"));
            assertThatThrownBy(() -> py.call("eval", "bytes(100_001)")).satisfies(e -> assertRefusedNaming(e, "maxResponseBytes"));
        } finally {
            if (allowedBefore == null) {
                System.clearProperty(io.snakebridge.jdbc.SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY);
            } else {
                System.setProperty(io.snakebridge.jdbc.SnakeBridgeDriver.ALLOW_CODE_SETTINGS_PROPERTY, allowedBefore);
            }
        }
    }

    /**
     * The reproductions of issue #24, in a JVM whose heap could not hold either response, from a worker
     * that sends them anyway: the driver's caps (the defaults) alone keep the heap, and the stream in step.
     */
    @Test
    void aJvmWithA512MegabyteHeapSurvivesResponsesThatWouldExhaustItAndAnswersTheNextCall() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                SmallHeapProbe.class.getName(), uncappedWorker(dir).toString()).redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(child.exitValue()).as(output).isZero();
        assertThat(output).contains("[bytes(60_000_000)] * 20: InvalidValueException: the worker's response holds more than "
                + "134217728 bytes").contains("['a'] * 15_000_000: InvalidValueException: the worker's response holds more than "
                + "2000000 JSON values").contains("then len('four') = 4");
    }
}
