package io.snakebridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** What is particular to forked workers: one server per configuration, its preloads, and its death. */
class WorkerServerTest {
    private static BridgeConfig.Builder forked() {
        return Workers.config().workerStart(WorkerStart.FORK);
    }

    private static long serverOf(BridgeConnection py) {
        return py.call("os.getppid").asLong();
    }

    @Test
    void connectionsOfOneConfigurationAreForkedByOneServerAndEachIsItsOwnProcess() {
        try (WorkerConnection a = Workers.connect(forked()); WorkerConnection b = Workers.connect(forked())) {
            assertThat(a.call("os.getpid").asLong()).isNotEqualTo(b.call("os.getpid").asLong());
            assertThat(serverOf(a)).isEqualTo(serverOf(b)).isNotEqualTo(ProcessHandle.current().pid());
            try (WorkerConnection other = Workers.connect(forked().preload("xml.dom.minidom"))) {
                assertThat(serverOf(other)).as("another preload list, another server").isNotEqualTo(serverOf(a));
            }
        }
    }

    @Test
    void preloadedModulesAreImportedOnceInTheServerBeforeAnyWorkerForks() {
        try (WorkerConnection py = Workers.connect(forked().preload("xml.dom.minidom"))) {
            assertThat(py.call("sys.modules.__contains__", "xml.dom.minidom").asBoolean()).isTrue();
        }
        try (WorkerConnection py = Workers.connect(forked())) {
            assertThat(py.call("sys.modules.__contains__", "xml.dom.minidom").asBoolean()).isFalse();
        }
    }

    @Test
    void aPreloadThatPrintsAtImportAndAtEveryForkLeavesTheServersEventsIntact(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Files.writeString(dir.resolve("chatty_preload.py"),
                "import os\nprint('hello at import')\nos.register_at_fork(after_in_child=lambda: print('hello at fork'))\n");
        BridgeConfig.Builder config = forked().pythonPath(Workers.FIXTURES, dir).preload("chatty_preload");
        try (WorkerConnection py = Workers.connect(config)) {
            long pid = py.call("os.getpid").asLong();
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            assertThatThrownBy(() -> py.call("math.sqrt", 1.0)).isInstanceOfSatisfying(WorkerCrashedException.class,
                    e -> assertThat(e.exitDescription()).isEqualTo("killed by SIGKILL")); // its end came as an event
        }
        try (WorkerConnection again = Workers.connect(config)) {
            assertThat(again.call("math.sqrt", 4.0).asDouble()).isEqualTo(2.0);
        }
    }

    @Test
    void aPreloadThatFailsToImportIsAWorkerStartErrorNamingTheModule() {
        assertThatThrownBy(() -> Workers.connect(forked().preload("json", "no_such_module_for_preload")))
                .isInstanceOf(WorkerStartException.class)
                .hasMessageContaining("no_such_module_for_preload");
    }

    @Test
    void aServerKilledWhileItsWorkersAreBusyFailsOnlyTheirCallsAndTheNextConnectStartsANewServer() throws Exception {
        BridgeConfig.Builder config = forked().preload("colorsys"); // a server of this test's own
        try (WorkerConnection spawned = Workers.connect(Workers.config().workerStart(WorkerStart.SPAWN));
             WorkerConnection first = Workers.connect(config); WorkerConnection second = Workers.connect(config)) {
            long server = serverOf(first);
            CompletableFuture<PyValue> busy = first.callAsync("time.sleep", 30);
            CompletableFuture<PyValue> alsoBusy = second.callAsync("time.sleep", 30);
            ProcessHandle.of(server).orElseThrow().destroyForcibly();
            for (CompletableFuture<PyValue> call : java.util.List.of(busy, alsoBusy)) {
                assertThatThrownBy(() -> call.get()).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOfSatisfying(WorkerCrashedException.class, e -> {
                            assertThat(e.sqlState()).isEqualTo("08006");
                            assertThat(e.exitDescription()).contains("worker server " + server);
                        });
            }
            assertThat(spawned.call("math.sqrt", 4.0).asDouble()).isEqualTo(2.0);
            try (WorkerConnection next = Workers.connect(config)) {
                assertThat(serverOf(next)).isNotEqualTo(server);
                assertThat(next.call("math.sqrt", 9.0).asDouble()).isEqualTo(3.0);
            }
        }
    }
}
