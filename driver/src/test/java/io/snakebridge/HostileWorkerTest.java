package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.quicktheories.generators.Generate;

/** A worker that answers with garbage breaks only its own connection, with a clear error; others go on. */
class HostileWorkerTest extends SharedWorkerTest {
    /** The shared worker, which must keep working while other workers fail. */
    private static WorkerConnection bystander() {
        return SharedWorkerTest.py;
    }

    static final Path FAKE = Workers.FIXTURES.resolve("fake_worker.py");

    @TempDir
    Path dir;



    private BridgeConfig.Builder fake(String mode) throws Exception {
        Path interpreter = ConnectionTest.fakeInterpreter(dir, "python-" + mode,
                "exec " + System.getProperty("snakebridge.python", "python3") + " " + FAKE + " " + mode);
        // Spawned: the fake interpreter is a hostile worker itself, not a Python that can run a worker server.
        return BridgeConfig.builder().python(interpreter.toString()).workerStart(WorkerStart.SPAWN);
    }

    @Test
    void whatAWorkerDidNotDeclareIsRefusedWithoutARoundTrip() throws Exception {
        try (WorkerConnection py = (WorkerConnection) SnakeBridge.connect(fake("garbage").build())) { // declares no capabilities
            long before = py.requestsSent();
            assertThatThrownBy(() -> py.call("len", (Object) new double[] {1})).isInstanceOfSatisfying(BridgeException.class,
                    e -> assertThat(e.sqlState()).isEqualTo("0A000"));
            assertThatThrownBy(() -> py.callArray("numpy.zeros", 3)).hasMessageContaining("capability 'arrays'");
            Batch batch = py.batch();
            batch.call("abs", -1);
            assertThatThrownBy(batch::execute).hasMessageContaining("capability 'batch'");
            assertThat(py.requestsSent()).isEqualTo(before);
            py.ping(); // the connection is fine
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"garbage", "json_array", "wrong_id", "huge_length", "neither_ok_nor_error", "unknown_tag", "foreign_ref"})
    void aProtocolViolationIsAProtocolExceptionThatBreaksOnlyThatConnection(String mode) throws Exception {
        try (BridgeConnection py = SnakeBridge.connect(fake(mode).build())) {
            py.ping();
            assertThatThrownBy(() -> py.call("math.sqrt", 2.0)).isInstanceOfSatisfying(ProtocolException.class,
                    e -> assertThat(e.sqlState()).isEqualTo("08P01"));
            assertThat(py.isClosed()).isTrue();
            assertThatThrownBy(py::ping).isInstanceOf(BridgeClosedException.class);
        }
        assertThat(bystander().call("math.sqrt", 16.0).asDouble()).isEqualTo(4.0);
    }

    @Test
    void aWorkerThatDiesInsideAFrameIsAWorkerCrash() throws Exception {
        try (BridgeConnection py = SnakeBridge.connect(fake("truncated").build())) {
            assertThatThrownBy(() -> py.call("len", "x")).isInstanceOf(WorkerCrashedException.class);
            assertThat(py.isClosed()).isTrue();
        }
        bystander().ping();
    }

    @Test
    void aSilentWorkerIsATimeoutThenAKillAndTheConnectionIsBroken() throws Exception {
        try (BridgeConnection py = SnakeBridge.connect(fake("silence").callTimeout(Duration.ofMillis(300))
                .cancelGrace(Duration.ofMillis(300)).build())) {
            assertThatThrownBy(() -> py.call("len", "x")).isInstanceOfSatisfying(CallTimeoutException.class,
                    e -> assertThat(e.workerKilled()).isTrue());
            assertThat(py.isClosed()).isTrue();
        }
        assertThat(bystander().call("len", "ok").asLong()).isEqualTo(2);
    }

    /** Whatever bytes a worker answers with (here never a valid response) break its connection cleanly: never a hang or another error. */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void randomBytesAsAWorkersResponseAreAProtocolExceptionThatClosesTheConnection() throws Exception {
        BridgeConfig config = fake("sends_the_hex_it_got").build();
        qt().withExamples(40).forAll(Generate.byteArrays(integers().between(0, 200), Generate.bytes(Byte.MIN_VALUE, Byte.MAX_VALUE, (byte) 0)))
                .checkAssert(response -> {
                    try (BridgeConnection py = SnakeBridge.connect(config)) {
                        assertThatThrownBy(() -> py.call("echo", HexFormat.of().formatHex(response)))
                                .isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e.sqlState()).isEqualTo("08P01"));
                        assertThat(py.isClosed()).isTrue();
                    }
                });
        bystander().ping();
    }
}
