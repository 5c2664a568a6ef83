package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConnectionTest extends SharedWorkerTest {

    @Test
    void dottedNamesResolveFunctionsClassMethodsSubmodulesAndModuleAttributes() {
        assertThat(py.call("os.path.join", "a", "b").asString()).isEqualTo("a/b");
        assertThat(py.call("collections.OrderedDict.fromkeys", List.of("a")).asMap()).containsEntry("a", null);
        assertThat(py.getAttr("math.pi").asDouble()).isEqualTo(Math.PI);
        assertThat(py.getAttr("sys.version_info.major").asLong()).isEqualTo(3);
        try (RefHandle element = py.callRef("xml.etree.ElementTree.fromstring", "<a x='1'/>")) {
            assertThat(element.typeName()).isEqualTo("Element");
            assertThat(element.getAttr("tag").asString()).isEqualTo("a");
        }
    }

    @Test
    void keywordArgumentsReachPython() {
        assertThat(py.call("int", List.of("ff"), Map.of("base", 16)).asLong()).isEqualTo(255);
    }

    @Test
    void pythonExceptionCarriesTypeMessageTracebackAndCauseChain() {
        assertThatThrownBy(() -> py.call("sb_fixtures.fail_with_cause"))
                .isInstanceOfSatisfying(PythonException.class, e -> {
                    assertThat(e.pythonType()).isEqualTo("ValueError");
                    assertThat(e.pythonMessage()).isEqualTo("lookup failed");
                    assertThat(e.sqlState()).isEqualTo("38000");
                    assertThat(e.traceback()).last().satisfies(f -> {
                        assertThat(f.file()).endsWith("sb_fixtures.py");
                        assertThat(f.function()).isEqualTo("fail_with_cause");
                        assertThat(f.text()).contains("raise ValueError");
                    });
                    assertThat(e.formattedTraceback()).startsWith("Traceback (most recent call last):").endsWith("ValueError: lookup failed");
                    assertThat(e.getCause()).isInstanceOfSatisfying(PythonException.class,
                            cause -> assertThat(cause.pythonType()).isEqualTo("KeyError"));
                });
        assertThat(py.call("len", "still works").asLong()).isEqualTo(11);
    }

    @Test
    void aPythonExceptionWithItsTracebackAndCauseSurvivesJavaSerialization() throws Exception {
        // app servers serialize exceptions: remote EJB and RMI calls, replicated sessions
        PythonException thrown = catchThrowableOfType(() -> py.call("sb_fixtures.fail_with_cause"), PythonException.class);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(thrown);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            PythonException read = (PythonException) in.readObject();
            assertThat(read.traceback()).isEqualTo(thrown.traceback()).isNotEmpty();
            assertThat(read.sqlState()).isEqualTo("38000");
            assertThat(read.getCause()).isInstanceOfSatisfying(PythonException.class, c -> assertThat(c.pythonType()).isEqualTo("KeyError"));
        }
    }

    @Test
    void missingModuleIsAPythonModuleNotFoundError() {
        assertThatThrownBy(() -> py.call("no_such_module_xyz.f"))
                .isInstanceOfSatisfying(PythonException.class, e -> assertThat(e.pythonType()).isEqualTo("ModuleNotFoundError"));
    }

    @Test
    void printInsideACalledFunctionLeavesTheProtocolIntactAndReachesTheLog() {
        assertThat(py.call("sb_fixtures.noisy", "printed by user code").asLong()).isEqualTo(20);
        assertThat(py.call("math.sqrt", 4.0).asDouble()).isEqualTo(2.0);
        assertThat(py.recentWorkerStderr()).contains("printed by user code");
    }

    @Test
    void anInvalidDottedNameIsAClearError() {
        assertThatThrownBy(() -> py.call("os..path")).isInstanceOf(InvalidValueException.class)
                .hasMessageContaining("dotted name");
    }

    @Test
    void closeIsIdempotentAndAClosedConnectionFailsFast() {
        WorkerConnection conn = Workers.connect();
        conn.close();
        conn.close();
        assertThat(conn.isClosed()).isTrue();
        assertThatThrownBy(conn::ping).isInstanceOfSatisfying(BridgeClosedException.class,
                e -> assertThat(e.sqlState()).isEqualTo("08003"));
    }

    @Test
    void aMissingInterpreterIsAWorkerStartErrorNamingIt() {
        assertThatThrownBy(() -> SnakeBridge.connect(BridgeConfig.builder().python("/no/such/python3").build()))
                .isInstanceOfSatisfying(WorkerStartException.class, e -> assertThat(e.sqlState()).isEqualTo("08001"))
                .hasMessageContaining("/no/such/python3");
    }

    /** An executable shell script standing in for the interpreter. */
    static Path fakeInterpreter(Path dir, String name, String body) throws Exception {
        Path script = dir.resolve(name);
        Files.writeString(script, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    @Test
    void aWorkerThatCannotStartShowsItsStderr(@TempDir Path dir) throws Exception {
        Path fake = fakeInterpreter(dir, "fake-python", "echo 'SyntaxError: pretend the worker failed to import' >&2\nexit 1");
        assertThatThrownBy(() -> SnakeBridge.connect(BridgeConfig.builder().python(fake.toString()).build()))
                .isInstanceOf(WorkerStartException.class)
                .hasMessageContaining(fake.toString())
                .hasMessageContaining("pretend the worker failed to import")
                .hasMessageContaining("exit code 1");
    }

    @Test
    void aWorkerThatNeverAnswersFailsWithinTheStartTimeout(@TempDir Path dir) throws Exception {
        Path silent = fakeInterpreter(dir, "silent-python", "exec sleep 60");
        assertThatThrownBy(() -> SnakeBridge.connect(
                BridgeConfig.builder().python(silent.toString()).startTimeout(Duration.ofMillis(500)).build()))
                .isInstanceOf(WorkerStartException.class).hasMessageContaining("startTimeout=PT0.5S");
    }

    @Test
    void aWorkerKilledMidSessionGivesWorkerCrashedAndOtherConnectionsKeepWorking() throws Exception {
        WorkerConnection victim = Workers.connect();
        RefHandle ref = victim.callRef("sb_fixtures.Counter");
        long pid = victim.call("os.getpid").asLong();
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        assertThatThrownBy(() -> victim.call("math.sqrt", 1.0))
                .isInstanceOfSatisfying(WorkerCrashedException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("08006");
                    assertThat(e.exitDescription()).isEqualTo("killed by SIGKILL");
                });
        assertThat(victim.isClosed()).isTrue();
        assertThatThrownBy(() -> ref.call("add")).isInstanceOfSatisfying(RefNotFoundException.class,
                e -> assertThat(e.reason()).isEqualTo(RefNotFoundException.Reason.WORKER_RESTARTED));
        assertThat(py.call("math.sqrt", 9.0).asDouble()).isEqualTo(3.0);
        victim.close();
    }
}
